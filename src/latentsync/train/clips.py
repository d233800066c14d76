"""Finding training clips and reading frame windows out of them with PyAV."""

from __future__ import annotations

import logging
from itertools import islice
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from latentsync.errors import ConfigError, InputError
from latentsync.video.reader import iter_frames

logger = logging.getLogger(__name__)

VIDEO_SUFFIXES = (".mp4",)


def list_clips(fileslist: str | Path | None = None, data_dir: str | Path | None = None) -> list[Path]:
    """Clip paths from a file list (one per line) or, failing that, every mp4 under a directory."""
    if fileslist:
        path = Path(fileslist)
        if not path.is_file():
            raise ConfigError(f"data.train_fileslist not found: {path}")
        lines = [line.strip() for line in path.read_text().splitlines()]
        clips = [Path(line) for line in lines if line and not line.startswith("#")]
    elif data_dir:
        folder = Path(data_dir)
        if not folder.is_dir():
            raise ConfigError(f"data.train_data_dir is not a directory: {folder}")
        clips = sorted(p for p in folder.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES)
    else:
        raise ConfigError("set data.train_fileslist or data.train_data_dir (both are empty)")
    if not clips:
        raise ConfigError(f"no training clips found in {fileslist or data_dir}")
    return clips


def read_window(path: str | Path, start: int, count: int) -> np.ndarray:
    """``count`` consecutive RGB frames [count, H, W, 3] uint8 starting at frame ``start``."""
    frames = list(islice(iter_frames(path, start), count))
    if len(frames) != count:
        raise InputError(f"{path}: wanted frames {start}..{start + count - 1}, got {len(frames)}")
    return np.stack(frames)


def to_pixels(frames: np.ndarray, resolution: int) -> torch.Tensor:
    """uint8 [F, H, W, 3] -> float [F, 3, R, R] in [-1, 1] (antialiased bilinear resize if needed)."""
    pixels = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float() / 255.0
    if pixels.shape[-2:] != (resolution, resolution):
        pixels = F.interpolate(pixels, size=(resolution, resolution), mode="bilinear", antialias=True)
    return (pixels.clamp(0, 1) - 0.5) / 0.5


class FrameSource:
    """Frame windows of clips; with ``cache_clips`` > 0, short clips are decoded once and held whole.

    Aligned training clips are small (a few seconds at 256x256), so holding a handful avoids
    a seek and partial decode per sample, which dominates data time on CPU.
    """

    def __init__(self, cache_clips: int = 0):
        self.cache_clips = cache_clips
        self._clips: dict[Path, np.ndarray] = {}

    def window(self, path: Path, start: int, count: int) -> np.ndarray:
        if self.cache_clips <= 0:
            return read_window(path, start, count)
        frames = self.whole(path)
        if start < 0 or start + count > len(frames):
            raise InputError(f"{path}: wanted frames {start}..{start + count - 1}, it has {len(frames)}")
        return frames[start : start + count]

    def whole(self, path: Path) -> np.ndarray:
        """Every frame of a clip [T, H, W, 3] (kept while among the ``cache_clips`` most recent)."""
        frames = self._clips.pop(path, None)
        if frames is None:
            frames = np.stack(list(iter_frames(path)))
        self._clips[path] = frames  # most recently used last
        while len(self._clips) > max(1, self.cache_clips):
            self._clips.pop(next(iter(self._clips)))
        return frames
