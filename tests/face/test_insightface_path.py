"""``auto`` with buffalo_l files present runs insightface end to end (stand-in ONNX models with
constant outputs: the real weights cannot be fetched here) and reproduces the original's crop."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers.golden import assert_uint8_close, reference

pytest.importorskip("insightface")
pytest.importorskip("onnxruntime")

BOX = (480.0, 560.0, 740.0, 900.0)  # around the speaker of demo1 frame 0 (1080x1920)


@pytest.fixture(scope="module")
def golden():
    return reference("align_restore")


@pytest.fixture(scope="module")
def stand_in_aux(tmp_path_factory, golden):
    from tests.helpers.fake_insightface import write_buffalo_l

    frame = golden["frame0"].numpy()
    return write_buffalo_l(
        tmp_path_factory.mktemp("aux"), frame.shape[:2], BOX, golden["frame0_landmarks3"].numpy()
    )


def test_auto_uses_insightface_and_gives_the_original_crop(stand_in_aux, golden):
    from latentsync.face.insightface_detector import InsightFaceDetector
    from latentsync.pipeline.faces import FaceStage, FrameItem

    stage = FaceStage("auto", 512, aux_dir=str(stand_in_aux), device="cpu")
    assert isinstance(stage.detector.detector, InsightFaceDetector)
    assert stage.detector.detector.providers == ["CPUExecutionProvider"]
    item = FrameItem(index=0, frame=golden["frame0"].numpy())
    assert stage.process(item) == 0 and item.has_face  # reason 0: a face
    # insightface's decoding put the face where the stand-in models said, 106 points and all
    face = stage.tracker.current
    np.testing.assert_allclose(face.bbox, BOX, atol=0.5)
    assert face.landmarks.shape == (106, 2)
    np.testing.assert_array_equal(face.landmarks3, golden["frame0_landmarks3"].numpy())
    assert_uint8_close(item.face, golden["frame0_face512"])


def test_face_threshold_is_the_minimum_score(stand_in_aux, golden):
    from latentsync.face.detector import create_detector

    frame = golden["frame0"].numpy()  # the stand-in face scores 0.9
    assert len(create_detector("insightface", aux_dir=stand_in_aux, min_score=0.3).detect(frame)) == 1
    assert create_detector("insightface", aux_dir=stand_in_aux, min_score=0.95).detect(frame) == []
