"""Streaming frames out of a video file: resumable, upright RGB, and ping-pong looped for long audio."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from latentsync.errors import InputError
from latentsync.video.decoding import frame_to_rgb
from latentsync.video.seekable import SeekableVideo

logger = logging.getLogger(__name__)

DEFAULT_BLOCK_BYTES = 256 * 1024 * 1024
"""Memory for frames held at once while playing a video backwards (about 43 frames of 1080p)."""


def iter_frames(path: str | Path, start_frame: int = 0) -> Iterator[np.ndarray]:
    """HxWx3 uint8 RGB frames from ``start_frame`` on, one at a time.

    A resumed job seeks to the keyframe before ``start_frame`` instead of decoding from the start.
    The file is opened (and checked) now, so a bad path fails here rather than at the first frame.
    """
    if start_frame < 0:
        raise ValueError(f"start_frame must be >= 0, got {start_frame}")
    video = SeekableVideo(path)
    return rgb_frames(video, start_frame)


def rgb_frames(video: SeekableVideo, start_frame: int) -> Iterator[np.ndarray]:
    """RGB frames of an already opened video from ``start_frame`` on; closes it when done."""
    with video:
        count = 0
        for frame in video.frames(start_frame):
            count += 1
            yield frame_to_rgb(frame)
        if count == 0 and start_frame == 0:
            raise InputError(f"video file has no decodable frames (truncated or corrupt): {video.path}")


def pingpong_index(i: int, n: int) -> int:
    """Source frame shown at output frame ``i`` when ``n`` frames loop forwards then backwards.

    Matches the original ``loop_video``: the clip, then the clip reversed, and so on, so each end
    frame is shown twice in a row (0..n-1, n-1..0, 0..n-1, ...).
    """
    if n <= 0:
        raise ValueError(f"need at least one frame, got n={n}")
    j = i % (2 * n)
    return j if j < n else 2 * n - 1 - j


def iter_frames_pingpong(
    path: str | Path, num_output_frames: int, block_bytes: int = DEFAULT_BLOCK_BYTES
) -> Iterator[np.ndarray]:
    """``num_output_frames`` frames, source frame ``pingpong_index(i, n)`` at output ``i``.

    Never holds the clip: forward passes stream; backward passes decode blocks of frames (at most
    ``block_bytes`` of RGB) from the keyframe before each block and emit them reversed. With GOP
    length g and block size b a backward pass decodes about ``n * (1 + g / (2 b))`` frames. The
    block at each turn is reused, so the end frames are not decoded twice.
    """
    if num_output_frames < 0:
        raise ValueError(f"num_output_frames must be >= 0, got {num_output_frames}")
    video = SeekableVideo(path)
    return _pingpong(video, num_output_frames, block_bytes)


@dataclass
class _HeldBlock:
    """Consecutive decoded frames kept at a turn of the ping-pong: ``frames[k]`` is frame ``start + k``."""

    start: int
    frames: list[np.ndarray]


def _pingpong(video: SeekableVideo, total: int, block_bytes: int) -> Iterator[np.ndarray]:
    with video:
        produced = 0
        tail: deque[np.ndarray] | None = None
        n = 0
        for frame in video.frames(0):
            if produced >= total:
                return
            rgb = frame_to_rgb(frame)
            if tail is None:
                tail = deque(maxlen=max(1, block_bytes // rgb.nbytes))
            tail.append(rgb)
            n += 1
            produced += 1
            yield rgb
        if n == 0:
            raise InputError(f"video file has no decodable frames (truncated or corrupt): {video.path}")
        block_frames = tail.maxlen
        held = _HeldBlock(n - len(tail), list(tail))
        del tail
        forward = False
        while produced < total:
            passes = (
                _forward(video, n, block_frames, held) if forward else _backward(video, block_frames, held)
            )
            for rgb in passes:
                if produced >= total:
                    return
                produced += 1
                yield rgb
            forward = not forward


def _backward(video: SeekableVideo, block_frames: int, held: _HeldBlock) -> Iterator[np.ndarray]:
    """Frames n-1 .. 0, given ``held`` = the block ending at n-1; leaves ``held`` = the block at 0."""
    while True:
        yield from reversed(held.frames)
        end = held.start
        if end == 0:
            return
        start = max(0, end - block_frames)
        block = [frame_to_rgb(f) for f in video.frames(start, end)]
        if len(block) != end - start:
            raise RuntimeError(f"{video.path}: frames {start}..{end - 1} decoded to {len(block)} frames")
        held.start, held.frames = start, block


def _forward(video: SeekableVideo, n: int, block_frames: int, held: _HeldBlock) -> Iterator[np.ndarray]:
    """Frames 0 .. n-1, given ``held`` = the block at 0; leaves ``held`` = the block ending at n-1."""
    yield from held.frames
    tail: deque[np.ndarray] = deque(held.frames, maxlen=block_frames)
    for frame in video.frames(len(held.frames), n):
        rgb = frame_to_rgb(frame)
        tail.append(rgb)
        yield rgb
    held.start, held.frames = n - len(tail), list(tail)


def iter_timed_frames(path: str | Path) -> Iterator[tuple[float, np.ndarray]]:
    """(time in seconds, RGB uint8 frame) for every decoded frame, as stored (no rotation): the
    data pipeline resamples by these times."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            time = float(frame.pts * frame.time_base) if frame.pts is not None else 0.0
            yield time, frame.to_ndarray(format="rgb24")


def read_all_frames(path: str | Path) -> np.ndarray:
    """All frames as [T, H, W, 3] uint8 (only for small aligned clips)."""
    frames = [frame for _, frame in iter_timed_frames(path)]
    if not frames:
        return np.zeros((0, 0, 0, 3), np.uint8)
    return np.stack(frames)
