"""What the training datasets share: a pool of clips, item ``i`` seeded by (seed, i), one clip per item."""

from __future__ import annotations

import random
from pathlib import Path

import torch
from torch.utils.data import Dataset

from latentsync.train.audio_cache import ClipAudio
from latentsync.train.clip_pool import ClipPool
from latentsync.train.clips import FrameSource
from latentsync.train.sampling import item_rng


class ClipWindowDataset(Dataset):
    """Subclasses build one sample from one clip in :meth:`sample`; this class picks the clip.

    ``min_frames`` is how long a clip must be for a sample (shorter ones are skipped by the pool). Items are endless (``length``) and deterministic.
    """

    def __init__(
        self,
        clips: list[Path],
        resolution: int,
        num_frames: int,
        fps: float,
        audio: ClipAudio | None,
        seed: int,
        length: int,
        cache_clips: int,
        min_frames: int,
    ):
        self.pool = ClipPool(clips, min_frames=min_frames)
        self.resolution = resolution
        self.num_frames = num_frames
        self.fps = fps
        self.audio = audio or ClipAudio()
        self.seed = seed
        self.length = length
        self.frames = FrameSource(cache_clips)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        rng = item_rng(self.seed, index % self.length)
        return self.pool.draw(rng, lambda path, total: self.sample(rng, path, total))

    def sample(self, rng: random.Random, path: Path, total: int) -> dict[str, torch.Tensor]:
        """The item drawn with ``rng`` from the clip at ``path`` (``total`` frames)."""
        raise NotImplementedError
