"""Per-clip audio inputs (SyncNet mel, Whisper features), computed once and cached on disk."""

from __future__ import annotations

import hashlib
import logging
import math
from collections import OrderedDict
from pathlib import Path

import torch

from latentsync.audio.frame_features import frame_chunk
from latentsync.audio.io import MODEL_FPS, SAMPLE_RATE, load_audio
from latentsync.audio.syncnet_mel import syncnet_melspectrogram
from latentsync.audio.whisper import WhisperFeatures
from latentsync.errors import InputError

logger = logging.getLogger(__name__)

MEL_STEPS_PER_SECOND = 80  # the SyncNet mel hop is 200 samples at 16 kHz


def mel_window_length(num_frames: int) -> int:
    """Mel steps covering ``num_frames`` video frames at 25 fps (52 for 16 frames)."""
    return math.ceil(num_frames / 5 * 16)


def mel_window(mel: torch.Tensor, start_frame: int, num_frames: int, fps: float) -> torch.Tensor:
    """The [1, 80, L] window of a clip's mel [80, T] that starts with video frame ``start_frame``."""
    start = int(MEL_STEPS_PER_SECOND * (start_frame / float(fps)))
    length = mel_window_length(num_frames)
    window = mel[:, start : start + length]
    if window.shape[-1] != length:
        raise InputError(f"audio too short for frames {start_frame}..{start_frame + num_frames - 1}")
    return window.unsqueeze(0)


def _cache_name(path: Path, suffix: str) -> str:
    """Unique per source file (two clips called 0001.mp4 in different folders must not collide)."""
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:10]
    return f"{path.stem}_{digest}_{suffix}.pt"


class _Memo(OrderedDict):
    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def put(self, key, value) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)


class ClipAudio:
    """Mel spectrograms and Whisper features of training clips: memory, then disk cache, then compute."""

    def __init__(
        self,
        mel_cache_dir: str | Path | None = None,
        embeds_cache_dir: str | Path | None = None,
        whisper_path: str | Path | None = None,
        memory_items: int = 64,
    ):
        self.mel_cache_dir = Path(mel_cache_dir) if mel_cache_dir else None
        self.embeds_cache_dir = Path(embeds_cache_dir) if embeds_cache_dir else None
        self.whisper_path = whisper_path
        self._whisper = None
        self._mels = _Memo(memory_items)
        self._features = _Memo(memory_items)

    def mel(self, path: Path) -> torch.Tensor:
        """[80, T] SyncNet mel of the clip's audio track."""
        if path not in self._mels:
            self._mels.put(path, self._cached(self.mel_cache_dir, path, "mel", self._compute_mel))
        return self._mels[path]

    def features(self, path: Path) -> torch.Tensor:
        """[T, layers, width] Whisper features of the clip's audio track."""
        if path not in self._features:
            self._features.put(
                path, self._cached(self.embeds_cache_dir, path, "whisper", self._compute_features)
            )
        return self._features[path]

    def frame_features(self, path: Path, start_frame: int, num_frames: int, fps: float) -> torch.Tensor:
        """[F, 10 * layers, width] audio chunks of frames ``start_frame ..`` (the UNet's cross-attention input)."""
        features = self.features(path)
        return torch.stack(
            [frame_chunk(features, i, fps) for i in range(start_frame, start_frame + num_frames)]
        )

    @staticmethod
    def _waveform(path: Path):
        audio = load_audio(path, SAMPLE_RATE)
        if audio.size < SAMPLE_RATE // MODEL_FPS:
            raise InputError(f"{path} has no usable audio track")
        return audio

    def _compute_mel(self, path: Path) -> torch.Tensor:
        return torch.from_numpy(syncnet_melspectrogram(self._waveform(path)))

    def _compute_features(self, path: Path) -> torch.Tensor:
        if self._whisper is None:
            if not self.whisper_path:
                raise InputError("Whisper features are needed but no Whisper checkpoint was given")
            self._whisper = WhisperFeatures(self.whisper_path)
        return self._whisper.encode(self._waveform(path))

    @staticmethod
    def _cached(folder: Path | None, path: Path, kind: str, compute) -> torch.Tensor:
        if folder is None:
            return compute(path)
        cache = folder / _cache_name(path, kind)
        if cache.is_file():
            try:
                return torch.load(cache, weights_only=True)
            except Exception as exc:  # a half-written cache file from a killed run
                logger.warning("recomputing unreadable cache %s (%s)", cache, exc)
        value = compute(path)
        folder.mkdir(parents=True, exist_ok=True)
        partial = cache.with_name(cache.name + f".{id(value)}.partial")
        torch.save(value, partial)
        partial.replace(cache)
        return value
