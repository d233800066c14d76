"""S3FD face detector: published layout, raw heads, decode + NMS and the frame-level detector."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from latentsync.errors import CheckpointError, InputError
from latentsync.face.s3fd_boxes import detection_table, nms_numpy
from latentsync.face.s3fd_detect import detect_faces, s3fd_input
from latentsync.models.s3fd import S3FD, load_s3fd
from tests.helpers import golden, media
from tests.helpers.aux_models import write_aux_models


@pytest.fixture(scope="module")
def s3fd_model(tmp_path_factory) -> S3FD:
    path = write_aux_models(tmp_path_factory.mktemp("aux"), include=["s3fd"])["s3fd"]
    return load_s3fd(path)


@pytest.fixture(scope="module")
def reference() -> dict[str, torch.Tensor]:
    return golden.reference("s3fd.forward")


@pytest.fixture(scope="module")
def frame0() -> np.ndarray:
    return media.demo_frames(1, size=None)[0]


def test_layout_matches_published_schema(s3fd_model):
    own = {k: list(v.shape) for k, v in s3fd_model.state_dict().items()}
    assert own == {k: v["shape"] for k, v in golden.schema("s3fd").items()}


def test_raw_heads_match_original(s3fd_model, reference):
    with torch.no_grad():
        heads = s3fd_model(reference["input"])
    golden.assert_close_ref(heads.loc, reference["loc"])
    golden.assert_close_ref(heads.conf_softmax, reference["conf_softmax"])
    assert torch.equal(heads.priors, reference["priors"])


def test_decode_and_nms_match_original(reference):
    table = detection_table(reference["loc"], reference["conf_softmax"], reference["priors"])
    golden.assert_close_ref(table, reference["detections"])
    assert int((table[0, 1, :, 0] > 0).sum()) == 750 and not table[0, 0].any()


def test_input_preprocessing_matches_original(frame0, reference):
    x = s3fd_input(frame0, scale=0.25)
    assert torch.equal(x, reference["input"])


def test_detect_faces_returns_confident_boxes_in_pixels(s3fd_model, frame0, reference):
    # detweights scores top out near 0.555, so the default 0.8 threshold finds nothing.
    assert detect_faces(s3fd_model, frame0, scales=(0.25,)).shape == (0, 5)
    boxes = detect_faces(s3fd_model, frame0, conf_threshold=0.54, scales=(0.25,))
    rows = reference["detections"][0, 1]
    confident = rows[rows[:, 0] > 0.54].numpy().astype(np.float64)
    assert 1 <= len(boxes) < len(confident)
    scale = np.array([1080, 1920, 1080, 1920])
    for box in boxes:
        match = np.abs(confident[:, 0] - box[4]) < 1e-6
        assert match.sum() == 1
        np.testing.assert_allclose(box[:4], confident[match, 1:][0] * scale, rtol=1e-5, atol=1e-3)
    assert np.all(np.diff(boxes[:, 4]) <= 0)
    assert len(nms_numpy(boxes, 0.1)) == len(boxes)


def test_nms_numpy_suppresses_overlaps():
    dets = np.array([[0, 0, 10, 10, 0.9], [1, 1, 11, 11, 0.95], [20, 20, 30, 30, 0.5], [0, 0, 10, 9, 0.1]])
    assert nms_numpy(dets, 0.1).tolist() == [1, 2]
    assert nms_numpy(np.empty((0, 5)), 0.1).size == 0


def test_s3fd_input_rejects_grey_frames():
    with pytest.raises(InputError, match="RGB frame"):
        s3fd_input(np.zeros((10, 10), dtype=np.uint8))


def test_load_s3fd_rejects_wrong_checkpoint(tmp_path):
    path = write_aux_models(tmp_path, include=["syncnet_v2"])["syncnet_v2"]
    with pytest.raises(
        CheckpointError, match=r"does not fit S3FD: .*missing keys: vgg\.0\.weight.*sfd_face\.pth"
    ):
        load_s3fd(path)
