"""Second looks: grayscale frames and 80-150 px faces in a 4K frame are found."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from latentsync.face.detector import create_detector
from latentsync.face.mediapipe_detector import MediaPipeFaceDetector
from latentsync.face.search import SearchingDetector, is_grayscale
from tests.helpers.media import demo_frames


@pytest.fixture(scope="module")
def colour_frame() -> np.ndarray:
    return demo_frames(1, size=(720, 1280))[0]


@pytest.fixture(scope="module")
def plain():
    with MediaPipeFaceDetector() as detector:
        yield detector


class Counting:
    def __init__(self, detector):
        self.detector, self.calls = detector, 0

    def detect(self, frame):
        self.calls += 1
        return self.detector.detect(frame)


def test_grayscale_frame_found_with_the_colour_frames_landmarks(colour_frame, plain):
    gray = np.repeat(cv2.cvtColor(colour_frame, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
    assert is_grayscale(gray) and not is_grayscale(colour_frame)
    assert plain.detect(gray) == []  # the failure this guards against: mediapipe sees no face
    faces = SearchingDetector(plain).detect(gray)
    assert len(faces) == 1
    reference = plain.detect(colour_frame)[0].landmarks3
    eyebrow_span = np.linalg.norm(reference[1] - reference[0])
    # the tinted whole frame would land 25-55 px off here; the box-then-mesh look stays close
    assert np.abs(faces[0].landmarks3 - reference).max() <= 0.15 * eyebrow_span


def small_face_in_4k(colour_frame, plain, face_px: int) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The demo face scaled to ``face_px`` wide, pasted into a 3840x2160 frame; and its box there."""
    x1, y1, x2, y2 = (int(v) for v in plain.detect(colour_frame)[0].bbox)
    scale = face_px / (x2 - x1)
    small = cv2.resize(colour_frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)[:900]
    frame = np.full((2160, 3840, 3), 90, np.uint8)
    frame[:, :, 2] = 120  # not gray: only the size is hard here
    ox, oy = 2500, 1100
    frame[oy : oy + small.shape[0], ox : ox + small.shape[1]] = small
    box = (ox + int(x1 * scale), oy + int(y1 * scale), ox + int(x2 * scale), oy + int(y2 * scale))
    return frame, box


@pytest.mark.parametrize("face_px", [80, 150])
def test_small_face_in_4k_is_found_and_then_followed_cheaply(colour_frame, plain, face_px):
    frame, (bx1, by1, bx2, by2) = small_face_in_4k(colour_frame, plain, face_px)
    assert plain.detect(frame) == []  # too small for the detector at full-frame scale
    counting = Counting(plain)
    searching = SearchingDetector(counting)
    faces = searching.detect(frame)
    assert len(faces) == 1
    face = faces[0]
    cx, cy = face.centre
    assert bx1 <= cx <= bx2 and by1 <= cy <= by2
    assert abs(face.width - (bx2 - bx1)) < 0.5 * (bx2 - bx1)
    counting.calls = 0
    again = searching.detect(frame)  # the next frame: the region of the last face, not all tiles
    assert len(again) == 1 and counting.calls == 2


def test_frames_without_faces_get_the_tile_search_only_now_and_then(plain):
    counting = Counting(plain)
    searching = SearchingDetector(counting, search_every=5)
    empty = np.full((2160, 3840, 3), 60, np.uint8)
    empty[..., 0] = 100
    calls = []
    for _ in range(10):
        before = counting.calls
        assert searching.detect(empty) == []
        calls.append(counting.calls - before)
    tiles = max(calls)
    assert tiles > 10  # a full tile search
    assert calls == [tiles, 1, 1, 1, 1, tiles, 1, 1, 1, 1]


def test_create_detector_wraps_every_backend():
    detector = create_detector("mediapipe", min_score=0.3)
    assert isinstance(detector, SearchingDetector)
    assert isinstance(detector.detector, MediaPipeFaceDetector)
