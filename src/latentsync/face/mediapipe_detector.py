"""The fallback face detector: MediaPipe Face Mesh (bundled models, CPU, no downloads).

The aligner's template was fitted to insightface-106 landmarks (eyebrow and nose centres); the
468-point mesh has no such points. ``latentsync.face.mesh_points`` maps the mesh onto them: the
template triangle carried by a similarity fitted on the rigid upper-face mesh points (see
``benchmarks/detector_alignment.py`` for how close its crops come to insightface's).
"""

from __future__ import annotations

import logging

import numpy as np

from latentsync.face.boxes import Face
from latentsync.face.mesh_points import landmarks3_from_mesh

logger = logging.getLogger(__name__)


class MediaPipeFaceDetector:
    """Face Mesh on every frame (static mode by default, so faces entering the shot are found at once).

    ``video_mode=True`` lets MediaPipe track between calls (faster; new faces are found only when
    tracking is lost). Face Mesh reports no per-face score: ``score`` is 1.0 for every returned face
    (each passed ``min_detection_confidence``).
    """

    def __init__(
        self,
        max_num_faces: int = 4,
        min_score: float = 0.5,
        min_tracking_confidence: float = 0.5,
        video_mode: bool = False,
    ):
        import mediapipe as mp

        self._mesh = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=not video_mode,
            max_num_faces=max_num_faces,
            refine_landmarks=False,
            min_detection_confidence=min_score,
            min_tracking_confidence=min_tracking_confidence,
        )

    def detect(self, frame_rgb: np.ndarray) -> list[Face]:
        if frame_rgb.ndim != 3 or frame_rgb.shape[2] != 3 or frame_rgb.dtype != np.uint8:
            raise ValueError(f"expected a uint8 RGB frame [H, W, 3], got {frame_rgb.dtype} {frame_rgb.shape}")
        height, width = frame_rgb.shape[:2]
        result = self._mesh.process(np.ascontiguousarray(frame_rgb))
        faces = []
        for mesh in result.multi_face_landmarks or []:
            points = np.array([(p.x * width, p.y * height) for p in mesh.landmark], dtype=np.float32)
            (x1, y1), (x2, y2) = points.min(axis=0), points.max(axis=0)
            faces.append(
                Face(
                    float(x1),
                    float(y1),
                    float(x2),
                    float(y2),
                    1.0,
                    landmarks3_from_mesh(points),
                    landmarks=points,
                )
            )
        logger.debug("mediapipe found %d face(s)", len(faces))
        return faces

    def close(self) -> None:
        self._mesh.close()

    def __enter__(self) -> MediaPipeFaceDetector:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
