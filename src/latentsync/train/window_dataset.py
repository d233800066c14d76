"""What the training datasets share: a pool of clips, item ``i`` seeded by (seed, i), one clip per item."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import Dataset

from latentsync.train.audio_cache import ClipAudio
from latentsync.train.clip_pool import ClipPool
from latentsync.train.clips import FrameSource
from latentsync.train.sampling import item_rng


@dataclass(eq=False)
class ClipWindowDataset(Dataset):
    """Subclasses build one sample from one clip in :meth:`sample`; this class picks the clip.

    A clip shorter than :meth:`min_clip_frames` is skipped by the pool. Items are endless
    (``length``) and deterministic.
    """

    clips: list[Path]
    resolution: int
    num_frames: int = 16
    fps: float = 25.0
    audio: ClipAudio | None = None
    seed: int = 0
    length: int = 10**9
    cache_clips: int = 0

    def __post_init__(self) -> None:
        self.audio = self.audio or ClipAudio()
        self.pool = ClipPool(self.clips, min_frames=self.min_clip_frames())
        self.frames = FrameSource(self.cache_clips)

    def min_clip_frames(self) -> int:
        """How many frames a clip needs for one sample."""
        raise NotImplementedError

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        rng = item_rng(self.seed, index % self.length)
        return self.pool.draw(rng, lambda path, total: self.sample(rng, path, total))

    def sample(self, rng: random.Random, path: Path, total: int) -> dict[str, torch.Tensor]:
        """The item drawn with ``rng`` from the clip at ``path`` (``total`` frames)."""
        raise NotImplementedError
