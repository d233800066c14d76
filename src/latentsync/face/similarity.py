"""Similarity transform from 3 face landmarks to the crop template, with LatentSync's temporal smoothing.

The published models were trained on crops made this exact way, so the estimate (Umeyama on
std-normalised points) and the odd-looking smoothing (a bias measured in normalised units added to a
pixel translation) are kept as they are: a "cleaner" transform would move the mouth in the crop.
"""

from __future__ import annotations

import numpy as np

SMOOTH_PREVIOUS_WEIGHT = 0.2  # weight of the previous frame's translation bias


def umeyama_similarity(
    src_points: np.ndarray, dst_points: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Least-squares rotation+uniform scale+translation mapping src onto dst.

    Returns (affine [2,3] float64, src normalised [N,2], dst normalised [N,2]); the normalised
    points (centred, divided by their sample std) are what the smoothing works with.
    """
    src = np.asarray(src_points, dtype=np.float64)
    dst = np.asarray(dst_points, dtype=np.float64)
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_centred, dst_centred = src - src_mean, dst - dst_mean
    # Sample std over all coordinates (ddof=1), as torch.std does.
    src_std, dst_std = src_centred.std(ddof=1), dst_centred.std(ddof=1)
    src_norm, dst_norm = src_centred / src_std, dst_centred / dst_std

    u, _, vt = np.linalg.svd(src_norm.T @ dst_norm)
    v = vt.T
    rotation = v @ u.T
    if np.linalg.det(rotation) < 0:
        v[:, -1] = -v[:, -1]
        rotation = v @ u.T

    scale = dst_std / src_std
    translation = dst_mean - scale * rotation @ src_mean
    affine = np.concatenate([scale * rotation, translation[:, None]], axis=1)
    return affine, src_norm, dst_norm


class SmoothedSimilarity:
    """Per-video state: the translation bias is an exponential average over consecutive frames."""

    def __init__(self, template: np.ndarray):
        self.template = np.asarray(template, dtype=np.float64)
        self.previous_bias: np.ndarray | None = None

    def reset(self) -> None:
        self.previous_bias = None

    def __call__(self, landmarks3: np.ndarray, smooth: bool = True) -> np.ndarray:
        """landmarks3 [3,2] in frame pixels -> affine [2,3] float32 (frame -> crop)."""
        affine, landmarks_norm, template_norm = umeyama_similarity(landmarks3, self.template)
        if smooth:
            bias = template_norm[2] - landmarks_norm[2]
            if self.previous_bias is not None:
                bias = self.previous_bias * SMOOTH_PREVIOUS_WEIGHT + bias * (1 - SMOOTH_PREVIOUS_WEIGHT)
            self.previous_bias = bias
            affine[:, 2] += bias
        return affine.astype(np.float32)
