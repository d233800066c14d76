"""The small face-detector interface the pipeline needs: boxes plus the 3 alignment landmarks.

``auto`` (the default) is insightface, the original's detector whose landmarks the published
models were trained on, whenever its buffalo_l files and packages are there; otherwise mediapipe
(bundled, CPU) with one warning that crops may differ from the original's.
"""

from __future__ import annotations

import logging
import os

from latentsync.face.boxes import Face, FaceDetector, box_iou
from latentsync.face.installed import BACKENDS, installed_backend, resolve_detector_name
from latentsync.face.search import SearchingDetector
from latentsync.registry import check_names, load_class

logger = logging.getLogger(__name__)

__all__ = ["Face", "FaceDetector", "box_iou", "create_detector", "resolve_detector_name"]

DEFAULT_DETECTOR = "auto"


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
