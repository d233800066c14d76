"""The small face-detector interface the pipeline needs: boxes plus the 3 alignment landmarks.

``auto`` (the default) is insightface, the original's detector whose landmarks the published
models were trained on, whenever its buffalo_l files and packages are there; otherwise mediapipe
(bundled, CPU) with one warning that crops may differ from the original's.
"""

from __future__ import annotations

import importlib.util
import logging
import os

from latentsync.face.boxes import Face, FaceDetector, box_iou
from latentsync.face.installed import installed_backend
from latentsync.face.search import SearchingDetector
from latentsync.registry import check_names, load_class

logger = logging.getLogger(__name__)

__all__ = ["Face", "FaceDetector", "box_iou", "create_detector", "resolve_detector_name"]

DEFAULT_DETECTOR = "auto"
BACKENDS = {
    "mediapipe": "latentsync.face.mediapipe_detector:MediaPipeFaceDetector",
    "insightface": "latentsync.face.insightface_detector:InsightFaceDetector",
}


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
