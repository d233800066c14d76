"""A video's frames on the 25 fps grid the SyncNet evaluation works on, decoded lazily.

SyncNet pairs 1 video frame with 4 MFCC steps (100 Hz), so other frame rates are resampled
by picking, for output frame k at time k/25, the source frame nearest in time (what a
``-r 25`` conversion does). Frames stay on disk: a second pass decodes only what a crop needs.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np

from latentsync.errors import InputError
from latentsync.video.probe import probe_video
from latentsync.video.reader import iter_frames

EVAL_FPS = 25


def iter_frames_25fps(path: str | Path) -> Iterator[np.ndarray]:
    """RGB uint8 frames of ``path`` resampled to 25 fps (unchanged if it already is 25 fps)."""
    fps = probe_video(path).fps
    if fps == EVAL_FPS:
        yield from iter_frames(path)
        return
    # source frame i shows at i / fps (constant rate); output frame k takes the nearest one
    next_output = 0
    previous = None
    for index, frame in enumerate(iter_frames(path)):
        while (
            previous is not None
            and Fraction(next_output, EVAL_FPS) < (Fraction(index) - Fraction(1, 2)) / fps
        ):
            yield previous
            next_output += 1
        previous = frame
        count = index + 1
    if previous is not None:
        while Fraction(next_output, EVAL_FPS) < (Fraction(count) - Fraction(1, 2)) / fps:
            yield previous
            next_output += 1


class SequentialFrames:
    """``frames[i]`` for increasing ``i`` in one decoding pass (restarts if asked for an earlier frame)."""

    def __init__(self, path: str | Path):
        self.path = path
        self._iterator: Iterator[np.ndarray] | None = None
        self._index = -1
        self._frame: np.ndarray | None = None

    def __getitem__(self, index: int) -> np.ndarray:
        if self._iterator is None or index < self._index:
            self._iterator, self._index, self._frame = iter_frames_25fps(self.path), -1, None
        while self._index < index:
            try:
                self._frame = next(self._iterator)
            except StopIteration:
                raise InputError(f"{self.path} has no frame {index} at 25 fps") from None
            self._index += 1
        return self._frame
