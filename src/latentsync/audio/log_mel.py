"""Whisper's log-mel spectrogram computed block by block, equal to one pass over the whole file.

Whisper centres 400-sample STFT frames every 160 samples on a signal reflect-padded by 200
at both ends, drops the last frame, and clamps the log power at (file maximum - 8). The
stream below reproduces the same frames from consecutive blocks (reflect padding only at
the real file ends) and leaves the clamp to the caller, who needs the file maximum first.
"""

from __future__ import annotations

import numpy as np
import torch
from whisper.audio import HOP_LENGTH, N_FFT, mel_filters

_HALF = N_FFT // 2  # reflect padding at each end of the file
MIN_SAMPLES = _HALF + 1  # torch's reflect padding needs more samples than it pads


def normalize_log_mel(raw_log10: torch.Tensor, file_max: float) -> torch.Tensor:
    """Whisper's dynamic-range clamp (80 dB below the file's loudest bin) and rescaling."""
    return (torch.clamp(raw_log10, min=file_max - 8.0) + 4.0) / 4.0


class LogMelStream:
    """Feeds waveform blocks in order and returns the un-normalized log10 mel frames they complete."""

    def __init__(self, n_mels: int = 80):
        self._filters = mel_filters("cpu", n_mels)
        self._window = torch.hann_window(N_FFT)
        self._buffer = np.zeros(0, dtype=np.float32)  # padded signal from frame ``_next_frame`` on
        self._head: list[np.ndarray] = []  # first samples, until the start padding can be built
        self._started = False
        self._next_frame = 0
        self.num_samples = 0

    @property
    def num_frames(self) -> int:
        """Frames returned so far."""
        return self._next_frame

    def push(self, block: np.ndarray) -> torch.Tensor:
        block = np.asarray(block, dtype=np.float32).reshape(-1)
        self.num_samples += len(block)
        if not self._started:
            self._head.append(block)
            if self.num_samples < MIN_SAMPLES:
                return self._empty()
            head = np.concatenate(self._head)
            self._head = []
            self._started = True
            block = np.concatenate([head[_HALF:0:-1], head])
        self._buffer = np.concatenate([self._buffer, block])
        return self._frames(limit=None)

    def finish(self) -> torch.Tensor:
        """The last frames, which reach into the reflect padding after the file end."""
        if not self._started:
            raise ValueError(f"need at least {MIN_SAMPLES} samples for a log-mel, got {self.num_samples}")
        tail = self._buffer[-(_HALF + 1) : -1][::-1]
        self._buffer = np.concatenate([self._buffer, tail])
        return self._frames(limit=self.num_samples // HOP_LENGTH)

    def _empty(self) -> torch.Tensor:
        return torch.zeros(self._filters.shape[0], 0)

    def _frames(self, limit: int | None) -> torch.Tensor:
        available = (len(self._buffer) - N_FFT) // HOP_LENGTH + 1 if len(self._buffer) >= N_FFT else 0
        if limit is not None:
            available = min(available, limit - self._next_frame)
        if available <= 0:
            return self._empty()
        used = (available - 1) * HOP_LENGTH + N_FFT
        segment = torch.from_numpy(np.ascontiguousarray(self._buffer[:used]))
        spectrum = torch.stft(
            segment, N_FFT, HOP_LENGTH, window=self._window, center=False, return_complex=True
        )
        power = spectrum.abs() ** 2
        log_power = torch.clamp(self._filters @ power, min=1e-10).log10()
        self._next_frame += available
        self._buffer = self._buffer[available * HOP_LENGTH :]
        return log_power
