"""SyncNet training samples: 16 frames with their own mel window (label 1) or another time's (label 0)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from latentsync.train.audio_cache import mel_window
from latentsync.train.clips import to_pixels
from latentsync.train.window_dataset import ClipWindowDataset


@dataclass(eq=False)
class SyncNetDataset(ClipWindowDataset):
    """Item ``i`` (deterministic for a seed): ``frames`` [F, 3, R, R] in [-1, 1], ``audio_samples``
    [1, 80, 52], ``y`` [1] (1 = the frames match the audio).

    Like the original, the mel window always belongs to a random start, and a coin decides whether
    the frames come from that start or from one at least ``min_shift`` frames away in the same clip
    (1 in the original). ``time_range`` keeps every window inside a fraction of each clip (held-out
    evaluation on later times).

    With ``offsets`` (e.g. -15..15 step 5, must hold 0), an item is instead one mel window with the
    frames at each offset from its start: ``frames`` [K, F, 3, R, R] and ``y`` the index of offset 0
    (for :func:`latentsync.train.losses.offsets_loss`).
    """

    time_range: tuple[float, float] = (0.0, 1.0)
    min_shift: int = 1
    offsets: Sequence[int] | None = None

    def __post_init__(self) -> None:
        self.offsets = tuple(int(o) for o in self.offsets) if self.offsets else None
        self.min_shift = max(1, self.min_shift)
        super().__post_init__()

    def min_clip_frames(self) -> int:
        """Room for two windows, or for the window at every offset."""
        if self.offsets is None:
            return 2 * self.num_frames
        if 0 not in self.offsets:
            raise ValueError(f"sync offsets {list(self.offsets)} must include 0 (the synced window)")
        return max(2 * self.num_frames, max(self.offsets) - min(self.offsets) + self.num_frames)

    def _span(self, total: int) -> tuple[int, int]:
        """First and last allowed window start inside ``time_range``."""
        first = int(self.time_range[0] * total)
        last = min(int(self.time_range[1] * total), total) - self.num_frames
        return first, last

    def sample(self, rng: random.Random, path: Path, total: int) -> dict[str, torch.Tensor]:
        if self.offsets is not None:
            return self._offsets_sample(rng, path, total)
        first, last = self._span(total)
        if last - first < self.min_shift:
            raise ValueError(f"time range {self.time_range} leaves no room for two windows")
        start = rng.randint(first, last)
        wrong = start
        while abs(wrong - start) < self.min_shift:
            wrong = rng.randint(first, last)
        synced = rng.random() < 0.5
        mel = mel_window(self.audio.mel(path), start, self.num_frames, self.fps)
        frames = self.frames.window(path, start if synced else wrong, self.num_frames)
        return {
            "frames": to_pixels(frames, self.resolution),
            "audio_samples": mel,
            "y": torch.tensor([1.0 if synced else 0.0]),
        }

    def _offsets_sample(self, rng: random.Random, path: Path, total: int) -> dict[str, torch.Tensor]:
        first, last = self._span(total)
        low, high = min(self.offsets), max(self.offsets)
        if last - first < high - low:
            raise ValueError(f"time range {self.time_range} is shorter than the offsets {low}..{high}")
        start = rng.randint(first - low, last - high)
        # one read covers every window
        span = self.frames.window(path, start + low, high - low + self.num_frames)
        windows = [span[o - low : o - low + self.num_frames] for o in self.offsets]
        return {
            "frames": torch.stack([to_pixels(w, self.resolution) for w in windows]),
            "audio_samples": mel_window(self.audio.mel(path), start, self.num_frames, self.fps),
            "y": torch.tensor(self.offsets.index(0)),
        }
