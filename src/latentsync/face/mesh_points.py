"""MediaPipe mesh -> the aligner's 3 points, fitted to the template geometry (the insightface fallback).

The published models were trained on crops aligned from insightface eyebrow and nose centres. The
468-point mesh has no such points, and averaging nearby mesh points (``landmarks3_from_groups``)
gives a triangle of another shape than the template's: the similarity fit then compromises, and
the crop rolls ~10 degrees away from insightface's. Here the three points are instead placed in a
face-fixed frame: a similarity maps the mean upper-face mesh (``ANCHOR_MEAN``, from the
``tools/fit_mesh_points.py`` fit over every frame of the demo clips) onto the frame's mesh, and
carries the template triangle (``TARGETS``: the template shape, level with the eye corners,
centred on the face, sized and placed like the eyebrow/nose groups) into the frame. The upper-face
anchors are rigid while talking, so the crop does not follow the jaw.
"""

from __future__ import annotations

import numpy as np

from latentsync.face.mesh_fit_data import ANCHOR_INDICES, ANCHOR_MEAN, TARGETS
from latentsync.face.similarity import fit_similarity

# Mesh indices, "left"/"right" as seen in the image of a camera-facing person.
LEFT_EYEBROW = (46, 53, 52, 65, 55)  # lower contour of the subject's right eyebrow
RIGHT_EYEBROW = (276, 283, 282, 295, 285)  # lower contour of the subject's left eyebrow
NOSE = (5, 1, 98, 327)  # lower bridge, tip, both alae


def landmarks3_from_groups(mesh_points: np.ndarray) -> np.ndarray:
    """The earlier mapping: means of nearby mesh points (kept for comparison and the fit)."""
    points = [mesh_points[list(group)].mean(axis=0) for group in (LEFT_EYEBROW, RIGHT_EYEBROW, NOSE)]
    return np.round(np.stack(points)).astype(np.float32)


def mesh_to_face_frame(mesh_points: np.ndarray) -> np.ndarray:
    """Similarity [2,3] from the mean-mesh frame to this frame's pixels, fitted on the rigid anchors."""
    return fit_similarity(np.asarray(ANCHOR_MEAN), mesh_points[list(ANCHOR_INDICES)]).affine


def landmarks3_from_mesh(mesh_points: np.ndarray) -> np.ndarray:
    """[468,2] mesh points in pixels -> [3,2] float32 (whole pixels, as the original's points)."""
    affine = mesh_to_face_frame(np.asarray(mesh_points, dtype=np.float64))
    targets = np.asarray(TARGETS, dtype=np.float64)
    points = targets @ affine[:, :2].T + affine[:, 2]
    return np.round(points).astype(np.float32)
