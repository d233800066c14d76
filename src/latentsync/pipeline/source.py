"""Source frames for each output frame: ping-pong looping and optional frame-rate resampling.

Output frame ``i`` shows the source frame at time ``i / out_fps`` of the looped clip (forwards,
then backwards, as the original), so a different ``--fps`` repeats or skips frames instead of
re-timing the audio. Only one decoded frame is held.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np

from latentsync.video.reader import iter_frames_pingpong, rgb_frames
from latentsync.video.seekable import SeekableVideo

_EPS = 1e-9


def looped_position(i: int, source_fps: Fraction, output_fps: Fraction) -> int:
    """Position of output frame ``i`` in the unrolled ping-pong stream of source frames."""
    return int(math.floor(i * float(source_fps) / float(output_fps) + _EPS))


def iter_output_frames(
    video: Path, source_fps: Fraction, output_fps: Fraction, start: int, stop: int
) -> Iterator[tuple[int, np.ndarray]]:
    """(output index, RGB frame) for output frames ``start .. stop-1``."""
    if stop <= start:
        return
    first_position = looped_position(start, source_fps, output_fps)
    last_position = looped_position(stop - 1, source_fps, output_fps)
    stream = _resumed_stream(video, first_position, last_position) if first_position > 0 else None
    if stream is not None:
        position = first_position - 1
    else:
        stream = iter_frames_pingpong(video, last_position + 1)
        position = -1
    frame = None
    for i in range(start, stop):
        want = looped_position(i, source_fps, output_fps)
        while position < want:
            frame = next(stream, None)
            if frame is None:
                return  # the video ended early (truncated file): stop where it stops
            position += 1
        yield i, frame


def _resumed_stream(video: Path, first: int, last: int) -> Iterator[np.ndarray] | None:
    """Frames from ``first`` on by seeking, when ``first..last`` lies in the file's first pass.

    A resumed job then skips decoding everything already done; the file is opened and its packet
    table read once, for both the length check and the seek.
    """
    opened = SeekableVideo(video)
    if last < len(opened.table):
        return rgb_frames(opened, first)
    opened.close()
    return None
