"""Ping-pong looping for audio longer than the video: index law and streamed frames."""

from __future__ import annotations

import numpy as np
import pytest

from latentsync.video import iter_frames_pingpong, pingpong_index
from tests.helpers.media import read_frames
from tests.video.clips import make_clip


def _original_loop(n: int, total: int) -> list[int]:
    """The original loop_video: the clip, the clip reversed, ... cut to the audio length."""
    order: list[int] = []
    forward = list(range(n))
    loops = -(-total // n)
    for k in range(loops):
        order += forward if k % 2 == 0 else forward[::-1]
    return order[:total]


@pytest.mark.parametrize("n", [1, 2, 3, 7])
def test_pingpong_index_matches_the_original_loop(n):
    total = 5 * n + 3
    assert [pingpong_index(i, n) for i in range(total)] == _original_loop(n, total)


def test_pingpong_index_examples():
    assert [pingpong_index(i, 4) for i in range(12)] == [0, 1, 2, 3, 3, 2, 1, 0, 0, 1, 2, 3]
    with pytest.raises(ValueError):
        pingpong_index(0, 0)


@pytest.fixture(scope="module")
def gop_clip(tmp_path_factory):
    path = make_clip(tmp_path_factory.mktemp("pp") / "clip.mp4", num_frames=23, options={"g": "8", "bf": "2"})
    return path, read_frames(path)


@pytest.mark.parametrize("block_frames", [1, 5, 64])
@pytest.mark.parametrize("total", [10, 23, 24, 50, 77])
def test_streamed_pingpong_equals_in_ram_reference(gop_clip, block_frames, total):
    path, frames = gop_clip
    frame_bytes = frames[0].nbytes
    out = list(iter_frames_pingpong(path, total, block_bytes=block_frames * frame_bytes))
    expected = [frames[pingpong_index(i, len(frames))] for i in range(total)]
    assert len(out) == total
    mismatched = [i for i, (a, b) in enumerate(zip(out, expected)) if not np.array_equal(a, b)]
    assert mismatched == []


def test_single_frame_video_repeats(tmp_path):
    path = make_clip(tmp_path / "one.mp4", num_frames=1)
    out = list(iter_frames_pingpong(path, 4))
    assert len(out) == 4 and all(np.array_equal(o, out[0]) for o in out)
