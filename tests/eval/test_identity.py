"""Identity outside the mouth: inf/1.0 when only the mouth changes, lower when anything else does."""

from __future__ import annotations

import json
import math

import cv2
import numpy as np
import pytest

from latentsync.cli import main
from latentsync.eval.identity import IdentityScores, identity_scores, largest_face_region
from latentsync.face.align import FaceAligner
from latentsync.face.mediapipe_detector import MediaPipeFaceDetector
from latentsync.video.reader import iter_frames
from tests.data.inputs import demo_frames
from tests.eval.clips import lossless_video

FRAMES = 6


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    """A lossless input, a copy with the mouth region scribbled, and one with the background changed."""
    folder = tmp_path_factory.mktemp("identity")
    source = lossless_video(folder / "input.mp4", demo_frames("demo1", 0, FRAMES))
    decoded = list(iter_frames(source))
    rng = np.random.default_rng(0)
    mouth, background, regions = [], [], []
    with MediaPipeFaceDetector(max_num_faces=1, video_mode=True) as detector:
        aligner = FaceAligner(512)
        for frame in decoded:
            region = largest_face_region(detector, aligner, frame)
            assert region is not None, "no face in the demo frame"
            core = cv2.erode(region.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
            changed = frame.copy()
            changed[core] = rng.integers(0, 256, (int(core.sum()), 3), dtype=np.uint8)
            mouth.append(changed)
            moved = frame.copy()
            moved[:40, :40] = 255 - moved[:40, :40]
            background.append(moved)
            regions.append(region)
    return {
        "input": source,
        "mouth": lossless_video(folder / "mouth.mp4", mouth),
        "background": lossless_video(folder / "background.mp4", background),
        "regions": regions,
        "frames": decoded,
    }


def test_mouth_region_covers_lower_face_only(videos):
    frame, region = videos["frames"][0], videos["regions"][0]
    share = region.mean()
    assert 0.02 < share < 0.3, f"region covers {share:.1%} of the frame"
    ys, xs = np.nonzero(region)
    assert ys.min() > frame.shape[0] * 0.15  # starts below the forehead


def test_identical_videos_are_inf_and_one(videos, tmp_path):
    code = main(
        [
            "eval",
            "identity",
            "--input",
            str(videos["input"]),
            "--output",
            str(videos["input"]),
            "--report-dir",
            str(tmp_path),
        ]
    )
    assert code == 0
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["psnr_outside_mouth"] == "inf" and data["psnr_mouth"] == "inf"
    assert data["ssim_outside_mouth"] == pytest.approx(1.0, abs=1e-12)
    assert data["frames"] == FRAMES and data["frames_with_face"] == FRAMES


def test_changed_mouth_keeps_outside_and_drops_mouth_psnr(videos):
    scores = identity_scores(videos["input"], videos["mouth"])
    assert scores["psnr_outside_mouth"] == math.inf
    assert scores["ssim_outside_mouth"] == pytest.approx(1.0, abs=1e-12)
    assert scores["psnr_mouth"] < 15  # random pixels over most of the region


def test_changed_background_lowers_outside_scores(videos):
    scores = identity_scores(videos["input"], videos["background"])
    assert 5 < scores["psnr_outside_mouth"] < 40
    assert scores["ssim_outside_mouth"] < 0.99
    assert scores["psnr_mouth"] == math.inf


def test_scores_on_known_error():
    a = np.full((32, 32, 3), 100, np.uint8)
    b = a.copy()
    b[0, 0, 0] = 110  # one value off by 10 outside; region is empty
    scores = IdentityScores()
    scores.add(a, b, None)
    expected = 10 * math.log10(255**2 / (100 / (32 * 32 * 3)))
    assert scores.summary()["psnr_outside_mouth"] == pytest.approx(expected)
