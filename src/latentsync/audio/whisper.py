"""LatentSync's audio features: Whisper encoder hidden states, 50 steps per second.

Each step holds the encoder state after the positional embedding and after each block
(``[T, 1 + layers, width]``, ``[T, 5, 384]`` for tiny), the layers the UNet's
cross-attention was trained on. How 30 s encoder windows are laid over longer audio is
``windows`` (see ``latentsync.audio.windows``): ``"overlap"`` removes the feature jump at
every 30 s window edge that the original's ``"reference"`` layout has.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from whisper.audio import log_mel_spectrogram

from latentsync.audio.io import SAMPLE_RATE, iter_audio_blocks
from latentsync.audio.log_mel import MIN_SAMPLES, LogMelStream, normalize_log_mel
from latentsync.audio.whisper_checkpoint import load_whisper_encoder
from latentsync.audio.windows import (
    DEFAULT_CROSSFADE_STEPS,
    DEFAULT_HOP_STEPS,
    WINDOW_MEL_FRAMES,
    WINDOW_MODES,
    EncoderWindow,
    fade_in_weights,
    num_feature_steps,
    plan_windows,
)
from latentsync.errors import InputError

logger = logging.getLogger(__name__)

AudioSource = str | Path | Iterable[np.ndarray] | Callable[[], Iterable[np.ndarray]]
_MIN_SAMPLES_FOR_ONE_STEP = 2 * 160  # two mel frames make one feature step


@dataclass(frozen=True)
class MelScan:
    """What a first pass over the audio finds: its length and the loudest log-mel bin.

    Whisper clamps the log-mel 80 dB below the file's maximum, so features of the first
    window depend on the whole file; streaming reads the file twice instead of holding it.
    """

    num_samples: int
    mel_frames: int
    mel_max: float

    @property
    def num_steps(self) -> int:
        return num_feature_steps(self.mel_frames)


def _check_length(num_samples: int) -> None:
    if num_samples < max(MIN_SAMPLES, _MIN_SAMPLES_FOR_ONE_STEP):
        raise InputError(
            f"the audio is too short ({num_samples} samples at 16 kHz); at least 20 ms are needed"
        )


def _block_opener(source: AudioSource, passes: int) -> Callable[[], Iterator[np.ndarray]]:
    """A function giving a fresh iterator over the 16 kHz blocks of ``source`` each call."""
    if isinstance(source, (str, Path)):
        return lambda: iter_audio_blocks(source, sample_rate=SAMPLE_RATE, block_seconds=30.0)
    if callable(source):
        return lambda: iter(source())
    if passes > 1 and iter(source) is source:
        raise TypeError(
            "a one-shot iterator of blocks can be read only once, but the log-mel needs the file "
            "maximum first: pass a path, a list, a function returning a fresh iterator, or scan="
        )
    return lambda: iter(source)


def scan_audio(source: AudioSource) -> MelScan:
    """First pass over the audio, block by block: its length and its log-mel maximum.

    Needs no model, so the driver of a multi-worker run scans once and hands the result to every
    segment instead of each worker reading the whole file again.
    """
    stream = LogMelStream()
    mel_max = -np.inf
    for block in _block_opener(source, passes=1)():
        frames = stream.push(block)
        if frames.numel():
            mel_max = max(mel_max, frames.max().item())
    _check_length(stream.num_samples)
    frames = stream.finish()
    if frames.numel():
        mel_max = max(mel_max, frames.max().item())
    return MelScan(stream.num_samples, stream.num_frames, float(mel_max))


class WhisperFeatures:
    """Whisper-encoder features of 16 kHz audio, in memory (``encode``) or streamed (``iter_features``)."""

    def __init__(
        self,
        checkpoint_path: str | Path,
        device: str | torch.device = "cpu",
        windows: str = "overlap",
        hop_steps: int = DEFAULT_HOP_STEPS,
        crossfade_steps: int = DEFAULT_CROSSFADE_STEPS,
    ):
        if windows not in WINDOW_MODES:
            raise ValueError(f"windows must be one of {WINDOW_MODES}, got {windows!r}")
        self.device = torch.device(device)
        self.windows = windows
        self.hop_steps = hop_steps
        self.crossfade_steps = crossfade_steps
        self.encoder = load_whisper_encoder(checkpoint_path, self.device)
        self.num_layers = len(self.encoder.blocks) + 1
        self.width = self.encoder.positional_embedding.shape[-1]

    def plan(self, mel_frames: int) -> list[EncoderWindow]:
        return plan_windows(mel_frames, self.windows, self.hop_steps, self.crossfade_steps)

    def encode(self, waveform: np.ndarray | torch.Tensor) -> torch.Tensor:
        """A whole 16 kHz mono float32 waveform -> features [T, layers, width] on the CPU, T = samples // 320."""
        audio = torch.as_tensor(np.asarray(waveform, dtype=np.float32)).reshape(-1)
        _check_length(len(audio))
        mel = log_mel_spectrogram(audio)
        parts = [rows for _, rows in self._windows_from_mel([mel], self.plan(mel.shape[1]))]
        return torch.cat(parts)

    @staticmethod
    def scan(source: AudioSource) -> MelScan:
        """First pass: the audio's length and its log-mel maximum (no model needed, see ``scan_audio``)."""
        return scan_audio(source)

    def iter_features(
        self, audio_path_or_blocks: AudioSource, scan: MelScan | None = None, first_step: int = 0
    ) -> Iterator[tuple[int, torch.Tensor]]:
        """``(first step, rows [n, layers, width])`` window by window; the rows join to ``encode``'s output.

        ``audio_path_or_blocks``: a media file path, or 16 kHz mono float32 blocks (a list or a
        function returning a fresh iterator; a one-shot iterator only with ``scan``). Without
        ``scan`` the audio is read twice (see ``MelScan``); at most about two windows of
        log-mel and one decoded block are held. Windows that end before ``first_step`` are skipped
        without running the encoder (a resumed job or a late segment starts mid-file); the rows
        from ``first_step`` on are unchanged.
        """
        opener = _block_opener(audio_path_or_blocks, passes=1 if scan is not None else 2)
        if scan is None:
            scan = self.scan(opener)
        windows = self.plan(scan.mel_frames)
        yield from self._windows_from_mel(self._normalized_mel(opener(), scan), windows, first_step)

    @staticmethod
    def _normalized_mel(blocks: Iterator[np.ndarray], scan: MelScan) -> Iterator[torch.Tensor]:
        stream = LogMelStream()
        for block in blocks:
            frames = stream.push(block)
            if frames.numel():
                yield normalize_log_mel(frames, scan.mel_max)
        yield normalize_log_mel(stream.finish(), scan.mel_max)
        if stream.num_samples != scan.num_samples:
            raise InputError(
                f"the audio changed between reads ({scan.num_samples} then {stream.num_samples} samples)"
            )

    def _windows_from_mel(
        self, mel_parts: Iterable[torch.Tensor], windows: list[EncoderWindow], first_step: int = 0
    ) -> Iterator[tuple[int, torch.Tensor]]:
        """Runs the encoder on each window as soon as its mel frames have arrived, dropping older frames."""
        parts = iter(mel_parts)
        held = torch.zeros(0, 0)
        held_start = 0  # mel frame of held[:, 0]
        fading_out: torch.Tensor | None = None  # previous window's rows across the coming fade
        for index, window in enumerate(windows):
            while held_start + held.shape[-1] < window.mel_stop:
                part = next(parts, None)
                if part is None:
                    raise InputError("the audio ended before its last feature window")
                held = part if held.numel() == 0 else torch.cat([held, part], dim=1)
            following = windows[index + 1] if index + 1 < len(windows) else None
            if following is not None and following.emit_stop <= first_step:
                pass  # neither this window's rows nor its fade into the next are needed
            else:
                mel = held[:, window.mel_start - held_start : window.mel_stop - held_start]
                states = self._hidden_states(mel)
                fading_out = yield from self._emit(window, states, fading_out)
            next_start = following.mel_start if following is not None else window.mel_stop
            held = held[:, next_start - held_start :].clone()
            held_start = next_start
        for _ in parts:  # let the source finish (and check its length)
            pass

    @staticmethod
    def _emit(
        window: EncoderWindow, states: torch.Tensor, fading_out: torch.Tensor | None
    ) -> Iterator[tuple[int, torch.Tensor]]:
        """Yield the window's rows (cross-faded with the previous window's); return its fade-out rows.

        Without the previous window (skipped: its rows were not needed) the fade is left out; these
        rows then lie before the first step asked for and are never read."""
        rows = states[window.rows(window.emit_start, window.emit_stop)].clone()
        if window.blend_in and fading_out is not None:
            weight = torch.tensor(fade_in_weights(2 * window.blend_in)).view(-1, 1, 1)
            fade = slice(0, 2 * window.blend_in)
            rows[fade] = (1 - weight) * fading_out + weight * rows[fade]
        yield window.emit_start, rows
        return states[window.rows(window.emit_stop, window.keep_stop + window.blend_out)]

    def _hidden_states(self, mel: torch.Tensor) -> torch.Tensor:
        """Encoder states of one window (mel [80, <=3000], zero-padded) -> [1500, layers, width] on the CPU."""
        mel = F.pad(mel, (0, WINDOW_MEL_FRAMES - mel.shape[-1])).unsqueeze(0).to(self.device)
        captured: list[torch.Tensor] = []
        blocks = self.encoder.blocks
        hooks = [blocks[0].register_forward_pre_hook(lambda _module, args: captured.append(args[0]))]
        hooks += [block.register_forward_hook(lambda _m, _a, out: captured.append(out)) for block in blocks]
        try:
            with torch.inference_mode():
                self.encoder(mel)
        finally:
            for hook in hooks:
                hook.remove()
        return torch.stack(captured, dim=2)[0].float().cpu()
