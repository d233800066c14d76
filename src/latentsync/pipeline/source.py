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

from latentsync.video.reader import iter_frames, iter_frames_pingpong
from latentsync.video.seekable import SeekableVideo

_EPS = 1e-9


def looped_position(i: int, source_fps: Fraction, output_fps: Fraction) -> int:
    """Position of output frame ``i`` in the unrolled ping-pong stream of source frames."""
    return int(math.floor(i * float(source_fps) / float(output_fps) + _EPS))


def source_frame_count(video: Path) -> int:
    """Frames in the file by its packet table (a demux, no decoding); 0 when it has no timestamps."""
    with SeekableVideo(video) as opened:
        return len(opened.table)


def iter_output_frames(
    video: Path, source_fps: Fraction, output_fps: Fraction, start: int, stop: int
) -> Iterator[tuple[int, np.ndarray]]:
    """(output index, RGB frame) for output frames ``start .. stop-1``."""
    if stop <= start:
        return
    first_position = looped_position(start, source_fps, output_fps)
    last_position = looped_position(stop - 1, source_fps, output_fps)
    if first_position > 0 and last_position < source_frame_count(video):
        # A resumed job inside the first pass: seek instead of decoding everything already done.
        stream = iter_frames(video, first_position)
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
