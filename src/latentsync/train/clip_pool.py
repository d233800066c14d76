"""Picking usable clips at random: corrupt or too-short clips are skipped and counted, never fatal."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from latentsync.errors import InputError
from latentsync.video.probe import probe_video

logger = logging.getLogger(__name__)

T = TypeVar("T")
MAX_ATTEMPTS = 64


class ClipPool:
    """The clips of a dataset, with each clip's frame count probed once and bad clips remembered."""

    def __init__(self, paths: list[Path], min_frames: int):
        self.paths = list(paths)
        self.min_frames = min_frames
        self._frames: dict[Path, int] = {}
        self.bad: set[Path] = set()
        self.skipped = 0

    def __len__(self) -> int:
        return len(self.paths)

    def num_frames(self, path: Path) -> int:
        if path not in self._frames:
            info = probe_video(path)
            self._frames[path] = int(info.num_frames)
        return self._frames[path]

    def skip(self, path: Path, reason: str) -> None:
        self.bad.add(path)
        self.skipped += 1
        logger.warning("skipping training clip %s (%s); %d skipped so far", path, reason, self.skipped)

    def draw(self, rng: random.Random, make: Callable[[Path, int], T]) -> T:
        """``make(path, num_frames)`` on random good clips until one works."""
        for _ in range(MAX_ATTEMPTS):
            good = [p for p in self.paths if p not in self.bad]
            if not good:
                break
            path = good[rng.randrange(len(good))]
            try:
                frames = self.num_frames(path)
                if frames < self.min_frames:
                    self.skip(path, f"{frames} frames, need at least {self.min_frames}")
                    continue
                return make(path, frames)
            except Exception as exc:  # any decode failure means a bad clip, not a bad run
                self.skip(path, f"{type(exc).__name__}: {exc}")
        raise InputError(
            f"no usable training clip: {self.skipped} skipped out of {len(self.paths)} "
            f"(each needs at least {self.min_frames} decodable frames and an audio track)"
        )
