"""Main-face selection and tracking on synthetic detections."""

from __future__ import annotations

import numpy as np
import pytest

from latentsync.face.detector import Face
from latentsync.face.tracker import MainFaceTracker


def face(x: float, y: float, size: float) -> Face:
    return Face(x, y, x + size, y + size * 1.3, 0.9, np.zeros((3, 2), np.float32))


def test_keeps_first_face_when_larger_face_appears():
    tracker = MainFaceTracker()
    speaker = face(100, 100, 200)
    assert tracker.update([speaker]) is speaker
    for step in range(10):
        moved = face(100 + 3 * step, 100 + step, 200)
        newcomer = face(600 + 10 * step, 80, 350)  # larger, walks in from the side
        assert tracker.update([newcomer, moved]) is moved


def test_starts_on_largest_or_on_index_left_to_right():
    small_left, big_right, middle = face(50, 100, 120), face(700, 100, 300), face(400, 100, 200)
    assert MainFaceTracker().update([small_left, big_right, middle]) is big_right
    assert MainFaceTracker(face_index=0).update([big_right, middle, small_left]) is small_left
    assert MainFaceTracker(face_index=1).update([big_right, middle, small_left]) is middle
    assert MainFaceTracker(face_index=3).update([big_right, middle, small_left]) is None
    with pytest.raises(ValueError):
        MainFaceTracker(face_index=-1)


def test_none_while_gone_then_resumes_or_reacquires():
    tracker = MainFaceTracker(max_missing=3)
    speaker, other = face(100, 100, 200), face(700, 100, 300)
    tracker.update([speaker])
    assert tracker.update([other]) is None  # the speaker left; the other person is not taken
    assert tracker.update([]) is None
    back = face(110, 105, 200)
    assert tracker.update([other, back]) is back  # came back within the gap
    for _ in range(4):
        assert tracker.update([other]) is None
    assert tracker.update([other]) is other  # gap longer than max_missing: pick anew


def test_follows_fast_motion_by_centre_distance():
    tracker = MainFaceTracker()
    tracker.update([face(100, 100, 100)])  # 100 x 130 box
    diagonal = face(140, 140, 100)  # IoU 0.26 < 0.3, centre moved 0.50 face sizes
    assert tracker.update([diagonal, face(800, 100, 200)]) is diagonal
    assert tracker.update([face(260, 140, 100)]) is None  # no overlap, 1.05 face sizes away
