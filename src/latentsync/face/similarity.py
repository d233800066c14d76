"""Similarity transform from 3 face landmarks to the crop template, with LatentSync's temporal smoothing.

The published models were trained on crops made this exact way, so two details are kept: the
scale is the ratio of the two point sets' spreads (sample std over all coordinates), not the
least-squares scale; and the smoothing adds a bias measured in *normalised* units (the nose
point's offset between the normalised sets, averaged over consecutive frames) to the pixel
translation. A "cleaner" transform would move the mouth in the crop.

The rotation is the least-squares one between the normalised sets (Umeyama without reflection).
In the plane it has a closed form: with points as complex numbers, the best rotation is the
phase of sum(conj(src_i) * dst_i).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SMOOTH_PREVIOUS_WEIGHT = 0.2  # weight of the previous frame's translation bias


@dataclass(frozen=True)
class SimilarityFit:
    affine: np.ndarray  # [2, 3] float64, maps src pixels onto dst
    src_normalised: np.ndarray  # [N] complex: centred, divided by the spread
    dst_normalised: np.ndarray


def _as_complex(points: np.ndarray) -> np.ndarray:
    xy = np.asarray(points, dtype=np.float64)
    return xy[:, 0] + 1j * xy[:, 1]


def _spread(centred: np.ndarray) -> float:
    """Sample std (ddof=1) over all 2N coordinates of centred points."""
    return float(np.sqrt(np.sum(np.abs(centred) ** 2) / (2 * len(centred) - 1)))


def fit_similarity(src_points: np.ndarray, dst_points: np.ndarray) -> SimilarityFit:
    src, dst = _as_complex(src_points), _as_complex(dst_points)
    src_centre, dst_centre = src.mean(), dst.mean()
    src_spread, dst_spread = _spread(src - src_centre), _spread(dst - dst_centre)
    src_n, dst_n = (src - src_centre) / src_spread, (dst - dst_centre) / dst_spread
    correlation = np.sum(np.conj(src_n) * dst_n)
    rotation = correlation / abs(correlation) if correlation != 0 else 1.0 + 0j
    linear = rotation * (dst_spread / src_spread)  # rotation and scale as one complex factor
    shift = dst_centre - linear * src_centre
    affine = np.array(
        [[linear.real, -linear.imag, shift.real], [linear.imag, linear.real, shift.imag]], dtype=np.float64
    )
    return SimilarityFit(affine, src_n, dst_n)


class SmoothedSimilarity:
    """Per-video state: the translation bias is an exponential average over consecutive frames."""

    def __init__(self, template: np.ndarray):
        self.template = np.asarray(template, dtype=np.float64)
        self._bias: np.ndarray | None = None

    def reset(self) -> None:
        self._bias = None

    def state(self) -> list[float] | None:
        """The smoothing memory, for a journal (resume continues exactly where a run stopped)."""
        return None if self._bias is None else [float(v) for v in self._bias]

    def restore(self, state: list[float] | None) -> None:
        self._bias = None if state is None else np.asarray(state, dtype=np.float64)

    def __call__(self, landmarks3: np.ndarray, smooth: bool = True) -> np.ndarray:
        """landmarks3 [3,2] in frame pixels -> affine [2,3] float32 (frame -> crop)."""
        fit = fit_similarity(landmarks3, self.template)
        affine = fit.affine.copy()
        if smooth:
            nose_offset = fit.dst_normalised[2] - fit.src_normalised[2]
            bias = np.array([nose_offset.real, nose_offset.imag])
            if self._bias is not None:
                bias = self._bias * SMOOTH_PREVIOUS_WEIGHT + bias * (1 - SMOOTH_PREVIOUS_WEIGHT)
            self._bias = bias
            affine[:, 2] += bias
        return affine.astype(np.float32)
