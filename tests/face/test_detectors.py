"""Detector backends: mediapipe on the demo video (vs the original detector's points), insightface weights."""

from __future__ import annotations

import numpy as np
import pytest

from latentsync.errors import ConfigError, LatentSyncError, MissingWeightsError
from latentsync.face.detector import create_detector
from latentsync.face.insightface_detector import landmarks3_from_106
from tests.face.media import align_reference, demo1_frames

# The golden points come from insightface-106; the mesh's closest points measure 7-18 px away on
# these frames (a ~100 px eyebrow span), mostly because insightface sees the brows level where
# the mesh follows the ~7 degree head roll. A wrong mapping (swapped sides, eyes, mouth) is > 40 px off.
MAX_LANDMARK_DISTANCE = 20.0


@pytest.fixture(scope="module")
def mediapipe_detector():
    detector = create_detector("mediapipe")
    yield detector
    detector.close()


def test_mediapipe_finds_the_speaker_near_original_landmarks(mediapipe_detector):
    ref = align_reference()
    for i, frame in enumerate(demo1_frames()[:2]):
        faces = mediapipe_detector.detect(frame)
        assert len(faces) == 1
        face = faces[0]
        assert face.landmarks3.dtype == np.float32 and face.landmarks3.shape == (3, 2)
        distances = np.linalg.norm(face.landmarks3 - ref[f"frame{i}_landmarks3"], axis=1)
        assert distances.max() <= MAX_LANDMARK_DISTANCE, distances
        assert face.x1 < face.landmarks3[:, 0].min() and face.landmarks3[:, 0].max() < face.x2
        assert face.y1 < face.landmarks3[:, 1].min() and face.landmarks3[:, 1].max() < face.y2
        assert 150 < face.width < 400 and face.score > 0


def test_mediapipe_finds_no_face_in_blank_frame(mediapipe_detector):
    assert mediapipe_detector.detect(np.full((1920, 1080, 3), 90, np.uint8)) == []


def test_unknown_detector_name():
    with pytest.raises(ConfigError, match="mediapipe"):
        create_detector("dlib")


def test_insightface_missing_weights_names_files_and_command(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LATENTSYNC_CHECKPOINTS", raising=False)
    monkeypatch.setenv("LATENTSYNC_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    (tmp_path / "models" / "buffalo_l").mkdir(parents=True)
    (tmp_path / "models" / "buffalo_l" / "det_10g.onnx").write_bytes(b"x")
    with pytest.raises(MissingWeightsError) as error:
        create_detector("insightface", aux_dir=tmp_path)
    message = str(error.value)
    assert isinstance(error.value, LatentSyncError)
    assert "2d106det.onnx" in message and "det_10g.onnx" not in message
    assert "latentsync download --auxiliary insightface_landmark" in message


def test_insightface_points_from_106_landmarks():
    landmarks = np.zeros((106, 2), np.float32)
    landmarks[[43, 48, 49, 51, 50]] = [[10, 20], [12, 20], [14, 21], [16, 20], [18, 20]]
    landmarks[101:106] = [[110, 20], [112, 20], [114, 21], [116, 20], [118, 20]]
    landmarks[[74, 77, 83, 86]] = [[64, 50.4], [60, 60], [68, 60], [64, 70]]
    expected = [[14, 20], [114, 20], [64, 60]]
    assert np.array_equal(landmarks3_from_106(landmarks), np.array(expected, np.float32))


def _no_face_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LATENTSYNC_CHECKPOINTS", raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))


def test_auto_without_insightface_files_falls_back_to_mediapipe_with_one_warning(
    tmp_path, monkeypatch, caplog
):
    import latentsync.face.installed as installed_module
    from latentsync.face.mediapipe_detector import MediaPipeFaceDetector

    _no_face_files(tmp_path, monkeypatch)
    monkeypatch.setattr(installed_module, "_warned_fallback", False)
    with caplog.at_level("WARNING", logger="latentsync.face.installed"):
        first = create_detector("auto")
        second = create_detector("auto")
    assert isinstance(first.detector, MediaPipeFaceDetector) and isinstance(
        second.detector, MediaPipeFaceDetector
    )
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "\n" not in warnings[0]
    assert "may differ from the original" in warnings[0] and "latentsync download" in warnings[0]


def test_auto_picks_insightface_when_its_files_are_found(tmp_path, monkeypatch):
    from latentsync.face.installed import insightface_unavailable, resolve_detector_name

    _no_face_files(tmp_path, monkeypatch)
    assert resolve_detector_name("auto") == "mediapipe"
    aux = tmp_path / "aux"
    for name in ("det_10g.onnx", "2d106det.onnx"):
        (aux / "models" / "buffalo_l").mkdir(parents=True, exist_ok=True)
        (aux / "models" / "buffalo_l" / name).write_bytes(b"onnx")
    if insightface_unavailable(aux) is not None:  # only the packages can be missing now
        assert "not installed" in insightface_unavailable(aux)
        return
    assert resolve_detector_name("auto", aux_dir=aux) == "insightface"
    # ./checkpoints in the original layout is found the same way
    (tmp_path / "checkpoints").mkdir()
    (aux).rename(tmp_path / "checkpoints" / "auxiliary")
    assert resolve_detector_name("auto") == "insightface"


def test_insightface_providers_follow_the_device_and_what_onnxruntime_offers(monkeypatch):
    onnxruntime = pytest.importorskip("onnxruntime")
    from latentsync.face.insightface_detector import onnx_providers

    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: ["CPUExecutionProvider"])
    assert onnx_providers("cuda") == (["CPUExecutionProvider"], -1)
    assert onnx_providers("cpu") == (["CPUExecutionProvider"], -1)
    monkeypatch.setattr(
        onnxruntime, "get_available_providers", lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"]
    )
    assert onnx_providers("cuda:1") == (["CUDAExecutionProvider", "CPUExecutionProvider"], 1)
    assert onnx_providers("cuda") == (["CUDAExecutionProvider", "CPUExecutionProvider"], 0)
    assert onnx_providers("cpu") == (["CPUExecutionProvider"], -1)
