"""SyncNet training samples: 16 frames with their own mel window (label 1) or another time's (label 0)."""

from __future__ import annotations

import random
from pathlib import Path

import torch

from latentsync.train.audio_cache import ClipAudio, mel_window
from latentsync.train.clips import to_pixels
from latentsync.train.window_dataset import ClipWindowDataset


class SyncNetDataset(ClipWindowDataset):
    """Item ``i`` (deterministic for a seed): ``frames`` [F, 3, R, R] in [-1, 1], ``audio_samples``
    [1, 80, 52], ``y`` [1] (1 = the frames match the audio).

    Like the original, the mel window always belongs to a random start, and a coin decides whether
    the frames come from that start or from one at least ``min_shift`` frames away in the same clip
    (1 in the original). ``time_range`` keeps every window inside a fraction of each clip (held-out
    evaluation on later times).
    """

    def __init__(
        self,
        clips: list[Path],
        resolution: int,
        num_frames: int = 16,
        fps: float = 25.0,
        audio: ClipAudio | None = None,
        seed: int = 0,
        time_range: tuple[float, float] = (0.0, 1.0),
        length: int = 10**9,
        cache_clips: int = 0,
        min_shift: int = 1,
    ):
        super().__init__(
            clips, resolution, num_frames, fps, audio, seed, length, cache_clips, windows_per_clip=2
        )
        self.time_range = time_range
        self.min_shift = max(1, min_shift)

    def _span(self, total: int) -> tuple[int, int]:
        """First and last allowed window start inside ``time_range``."""
        first = int(self.time_range[0] * total)
        last = min(int(self.time_range[1] * total), total) - self.num_frames
        return first, last

    def sample(self, rng: random.Random, path: Path, total: int) -> dict[str, torch.Tensor]:
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
