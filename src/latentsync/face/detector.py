"""The small face-detector interface the pipeline needs: boxes plus the 3 alignment landmarks.

``auto`` (the default) is insightface, the original's detector whose landmarks the published
models were trained on, whenever its buffalo_l files and packages are there; otherwise mediapipe
(bundled, CPU) with one warning that crops may differ from the original's.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from latentsync.face.installed import installed_backend
from latentsync.registry import check_names, load_class

logger = logging.getLogger(__name__)

DEFAULT_DETECTOR = "auto"
BACKENDS = {
    "mediapipe": "latentsync.face.mediapipe_detector:MediaPipeFaceDetector",
    "insightface": "latentsync.face.insightface_detector:InsightFaceDetector",
}


@dataclass
class Face:
    """One detected face, in frame pixels.

    ``landmarks3`` [3,2] float32 are the points the aligner maps to its template: left eyebrow centre,
    right eyebrow centre (left/right as seen in the image), nose centre.
    """

    x1: float
    y1: float
    x2: float
    y2: float
    score: float
    landmarks3: np.ndarray
    landmarks: np.ndarray | None = None  # all points of the backend, if it has more

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        return self.x1, self.y1, self.x2, self.y2

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1

    @property
    def area(self) -> float:
        return max(0.0, self.width) * max(0.0, self.height)

    @property
    def centre(self) -> tuple[float, float]:
        return (self.x1 + self.x2) / 2, (self.y1 + self.y2) / 2


class FaceDetector(Protocol):
    def detect(self, frame_rgb: np.ndarray) -> list[Face]:
        """uint8 RGB frame [H,W,3] -> faces found (possibly none), in no guaranteed order."""
        ...


def box_iou(a: Face, b: Face) -> float:
    inter_w = min(a.x2, b.x2) - max(a.x1, b.x1)
    inter_h = min(a.y2, b.y2) - max(a.y1, b.y1)
    if inter_w <= 0 or inter_h <= 0:
        return 0.0
    inter = inter_w * inter_h
    union = a.area + b.area - inter
    return inter / union if union > 0 else 0.0


FALLBACK_HINT = (
    "for the original's detector: pip install insightface onnxruntime (onnxruntime-gpu on CUDA), then "
    "`latentsync download` (or --aux-dir DIR holding models/buffalo_l/det_10g.onnx and 2d106det.onnx)"
)
_warned_fallback = False


def insightface_unavailable(aux_dir: str | os.PathLike | None = None) -> str | None:
    """Why ``auto`` cannot use insightface here (None: it can); looks only on disk, never downloads."""
    from latentsync import weights
    from latentsync.errors import MissingWeightsError

    packages = [name for name in ("insightface", "onnxruntime") if importlib.util.find_spec(name) is None]
    if packages:
        return f"{' and '.join(packages)} not installed"
    try:
        weights.resolve(weights.face_model_files(), allow_download=False, aux_dir=aux_dir)
    except MissingWeightsError:
        return "insightface buffalo_l files (det_10g.onnx, 2d106det.onnx) not found"
    return None


def resolve_detector_name(name: str, aux_dir: str | os.PathLike | None = None) -> str:
    """``auto`` -> "insightface" or "mediapipe" (warning once per process on the fallback)."""
    global _warned_fallback
    if name != "auto":
        return name
    why = insightface_unavailable(aux_dir)
    if why is None:
        return "insightface"
    if not _warned_fallback:
        logger.warning(
            "warning: %s; using mediapipe, whose face crops may differ from the original's (the published "
            "weights were trained on insightface crops); %s",
            why,
            FALLBACK_HINT,
        )
        _warned_fallback = True
    return "mediapipe"


def create_detector(
    name: str = DEFAULT_DETECTOR,
    aux_dir: str | os.PathLike | None = None,
    min_score: float | None = None,
    device: str = "cpu",
    **kwargs,
) -> FaceDetector:
    """Build a backend by name ("auto", "mediapipe", "insightface").

    ``min_score`` is the detector's minimum face score (``--face-threshold``; None: its default);
    ``device`` decides where insightface runs; other kwargs go to the backend's constructor. The
    backend is wrapped in :class:`~latentsync.face.search.SearchingDetector` (grayscale frames,
    small faces in large frames).
    """
    from latentsync.face.search import SearchingDetector

    check_names(BACKENDS, [name], "face detector", also=["auto"])
    name = resolve_detector_name(name, aux_dir)
    backend = installed_backend(name)
    if backend != name:
        kwargs = {}  # constructor options were meant for the requested backend
    if min_score is not None:
        kwargs["min_score"] = min_score
    if backend == "insightface":
        kwargs.update(aux_dir=aux_dir, device=device)
    return SearchingDetector(load_class(BACKENDS, backend, "face detector")(**kwargs))
