"""The original LatentSync detector: insightface SCRFD + 106-point landmarks (buffalo_l models).

Needs ``det_10g.onnx`` and ``2d106det.onnx`` (``latentsync download`` fetches them; the shared
resolver finds them under ``--aux-dir``, ``checkpoints/auxiliary/models/buffalo_l/`` or the HF
cache). Like the original, faces smaller than 50x80 px, with unusual aspect ratios or a score below
0.5 are dropped, and the RGB frame is passed to insightface as is (the original did so; its crops,
and so the published models, are based on those landmarks). Runs on CUDA when inference does and
onnxruntime offers the CUDA provider (onnxruntime-gpu), else on CPU.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from latentsync import weights
from latentsync.face.boxes import Face

logger = logging.getLogger(__name__)

DETECT_SIZE = 512
DEFAULT_MIN_SCORE = 0.5

# 106-point indices averaged into the 3 alignment points (as the original's image processor).
LEFT_EYEBROW = [43, 48, 49, 51, 50]
RIGHT_EYEBROW = [101, 102, 103, 104, 105]
NOSE = [74, 77, 83, 86]


def landmarks3_from_106(landmarks_106: np.ndarray) -> np.ndarray:
    """[106,2] -> [3,2] float32; rounded before and after averaging, as the original."""
    points = np.round(landmarks_106)
    centres = [points[group].mean(axis=0) for group in (LEFT_EYEBROW, RIGHT_EYEBROW, NOSE)]
    return np.round(np.stack(centres)).astype(np.float32)


def plausible_face(width: float, height: float, score: float, min_score: float) -> bool:
    """The original's filter against tiny, oddly shaped or unsure detections."""
    if width < 50 or height < 80:
        return False
    if not 0.2 <= width / height <= 1.5:
        return False
    return score >= min_score


def onnx_providers(device: str = "cpu") -> tuple[list[str], int]:
    """(onnxruntime providers, insightface ctx_id) for ``device``: CUDA only if this onnxruntime has it."""
    import onnxruntime

    available = onnxruntime.get_available_providers()
    if str(device).startswith("cuda"):
        if "CUDAExecutionProvider" in available:
            index = str(device).partition(":")[2]
            return ["CUDAExecutionProvider", "CPUExecutionProvider"], int(index or 0)
        logger.info(
            "insightface on CPU: this onnxruntime has no CUDAExecutionProvider (pip install onnxruntime-gpu)"
        )
    return ["CPUExecutionProvider"], -1


def _load(path: Path, providers: list[str], ctx_id: int):
    from insightface.model_zoo import get_model

    options = [{"device_id": ctx_id} if p == "CUDAExecutionProvider" else {} for p in providers]
    model = get_model(str(path), providers=providers, provider_options=options)
    if model is None:
        raise ValueError(f"{path} is not an insightface model")
    return model


class InsightFaceDetector:
    """SCRFD detection + the 106-point landmark model, as insightface's FaceAnalysis runs them."""

    def __init__(
        self,
        aux_dir: str | os.PathLike | None = None,
        min_score: float = DEFAULT_MIN_SCORE,
        det_size: int = DETECT_SIZE,
        device: str = "cpu",
    ):

        found = weights.resolve(weights.face_model_files(), aux_dir=aux_dir)
        self.min_score = min_score
        self.providers, ctx_id = onnx_providers(device)
        self._detector = _load(found["insightface_det"], self.providers, ctx_id)
        self._landmarks = _load(found["insightface_landmark"], self.providers, ctx_id)
        # Below 0.5 SCRFD itself must keep the weaker boxes, not only our filter.
        self._detector.prepare(ctx_id, input_size=(det_size, det_size), det_thresh=min(min_score, 0.5))
        self._landmarks.prepare(ctx_id)

    def detect(self, frame_rgb: np.ndarray) -> list[Face]:
        from insightface.app.common import Face as InsightFace

        boxes, keypoints = self._detector.detect(frame_rgb, max_num=0, metric="default")
        faces = []
        for i, box in enumerate(boxes):
            found = InsightFace(
                bbox=box[:4], kps=None if keypoints is None else keypoints[i], det_score=box[4]
            )
            x1, y1, x2, y2 = (float(v) for v in found.bbox)
            score = float(found.det_score)
            ints = found.bbox.astype(np.int_)
            if not plausible_face(ints[2] - ints[0], ints[3] - ints[1], score, self.min_score):
                continue
            self._landmarks.get(frame_rgb, found)
            landmarks = np.asarray(found.landmark_2d_106, dtype=np.float32)
            faces.append(Face(x1, y1, x2, y2, score, landmarks3_from_106(landmarks), landmarks=landmarks))
        logger.debug("insightface kept %d face(s)", len(faces))
        return faces
