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

from latentsync.data.media import iter_frames
from latentsync.errors import InputError
from latentsync.video.probe import probe_video

EVAL_FPS = 25


def iter_frames_25fps(path: str | Path) -> Iterator[np.ndarray]:
    """RGB uint8 frames of ``path`` resampled to 25 fps (unchanged if it already is 25 fps)."""
    fps = probe_video(path).fps
    if fps == EVAL_FPS:
        for _, frame in iter_frames(path):
            yield frame
        return
    step = Fraction(1, EVAL_FPS)
    half_source_frame = 1 / (2 * float(fps))
    next_time = Fraction(0)
    start = None
    previous = None
    for time, frame in iter_frames(path):
        start = time if start is None else start
        time -= start
        # emit every grid time closer to the previous frame than to this one
        while previous is not None and float(next_time) < time - half_source_frame:
            yield previous
            next_time += step
        previous = frame
    if previous is not None:
        end = time + 2 * half_source_frame
        while float(next_time) < end - 1e-9:
            yield previous
            next_time += step


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
