"""Output frames for a resumed job: the same pictures as a full pass, without decoding the done part."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from latentsync.pipeline.source import iter_output_frames
from latentsync.video import pingpong_index
from tests.helpers.media import read_frames
from tests.video.clips import decoded_frames, make_clip


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = make_clip(
        tmp_path_factory.mktemp("resume") / "clip.mp4", num_frames=40, options={"g": "8", "bf": "2"}
    )
    return path, read_frames(path)


@pytest.mark.parametrize(("start", "stop"), [(30, 40), (17, 35), (1, 5)])
def test_resume_inside_first_pass_seeks(clip, monkeypatch, start, stop):
    path, frames = clip
    counter = decoded_frames(monkeypatch)
    out = list(iter_output_frames(path, Fraction(25), Fraction(25), start, stop))
    assert [i for i, _ in out] == list(range(start, stop))
    assert all(np.array_equal(f, frames[i]) for i, f in out)
    # from the keyframe before `start` (GOP 8), never from frame 0
    assert counter[0] <= (stop - start) + 8 + 2, counter[0]


def test_resume_past_the_first_pass_still_loops(clip):
    path, frames = clip
    out = list(iter_output_frames(path, Fraction(25), Fraction(25), 35, 60))
    assert [i for i, _ in out] == list(range(35, 60))
    assert all(np.array_equal(f, frames[pingpong_index(i, 40)]) for i, f in out)


def test_resume_with_frame_rate_change(clip):
    path, frames = clip
    # 50 fps output from a 25 fps clip: every source frame twice
    out = list(iter_output_frames(path, Fraction(25), Fraction(50), 21, 41))
    assert all(np.array_equal(f, frames[i // 2]) for i, f in out)
