"""The original LatentSync detector: insightface SCRFD + 106-point landmarks (buffalo_l models).

Needs ``models/buffalo_l/det_10g.onnx`` and ``2d106det.onnx`` under the auxiliary weights folder
(``latentsync download --auxiliary``). Like the original, faces smaller than 50x80 px, with unusual
aspect ratios or a score below 0.5 are dropped, and the RGB frame is passed to insightface as is
(the original did so; its crops, and so the published models, are based on those landmarks).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from latentsync.errors import MissingWeightsError
from latentsync.face.detector import Face

logger = logging.getLogger(__name__)

MODEL_SUBDIR = Path("models") / "buffalo_l"
REQUIRED_FILES = ("det_10g.onnx", "2d106det.onnx")
DOWNLOAD_HINT = "latentsync download --auxiliary"
DETECT_SIZE = 512

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


def required_paths(model_dir: str | Path) -> list[Path]:
    return [Path(model_dir) / MODEL_SUBDIR / name for name in REQUIRED_FILES]


class InsightFaceDetector:
    """insightface FaceAnalysis (detection + landmark_2d_106) on CPU by default."""

    def __init__(
        self,
        model_dir: str | Path = "checkpoints/auxiliary",
        min_score: float = 0.5,
        det_size: int = DETECT_SIZE,
        providers: tuple[str, ...] = ("CPUExecutionProvider",),
    ):
        missing = [path for path in required_paths(model_dir) if not path.is_file()]
        if missing:
            raise MissingWeightsError([(str(path), DOWNLOAD_HINT) for path in missing])
        from insightface.app import FaceAnalysis

        self.min_score = min_score
        # A directory path as ``name`` makes insightface load from it instead of downloading.
        self._app = FaceAnalysis(
            name=str(Path(model_dir) / MODEL_SUBDIR),
            allowed_modules=["detection", "landmark_2d_106"],
            providers=list(providers),
        )
        self._app.prepare(ctx_id=-1, det_size=(det_size, det_size))

    def detect(self, frame_rgb: np.ndarray) -> list[Face]:
        faces = []
        for found in self._app.get(frame_rgb):
            x1, y1, x2, y2 = (float(v) for v in found.bbox[:4])
            score = float(found.det_score)
            box = found.bbox.astype(np.int_)
            if not plausible_face(box[2] - box[0], box[3] - box[1], score, self.min_score):
                continue
            landmarks = np.asarray(found.landmark_2d_106, dtype=np.float32)
            faces.append(Face(x1, y1, x2, y2, score, landmarks3_from_106(landmarks), landmarks=landmarks))
        logger.debug("insightface kept %d face(s)", len(faces))
        return faces
