"""The fixed mouth mask of LatentSync, drawn procedurally instead of shipping the original's PNG.

Geometry measured on the original 256x256 mask (1 = keep, 0 = regenerate): the regenerated part
is a lower-face "bowl" spanning x 9..247, from y 95 down to y ~243, whose straight sides turn at
y 145 into a superellipse (exponent 1.8 across, 2 down) that leans ~3 px right towards the bottom
(the original was hand drawn), minus a keep-notch x 78..178, y < 128 under the nose.
The mask is rendered with 4x4 supersampling, so edges are area-weighted like a resampled image.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

DESIGN_SIZE = 256  # coordinates below are in pixels of the 256 design
BOWL_LEFT, BOWL_RIGHT = 9.0, 247.0
BOWL_TOP = 95.0
CURVE_START = 145.0  # sides are vertical above this row
BOWL_BOTTOM = 243.5
EXPONENT_ACROSS, EXPONENT_DOWN = 1.8, 2.0
BOTTOM_LEAN = 3.0  # horizontal shift of the curve centre at the very bottom
NOTCH_LEFT, NOTCH_RIGHT, NOTCH_BOTTOM = 78.0, 178.0, 128.0
SUPERSAMPLING = 4


def _regenerate_region(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Boolean: design-space points (x, y) inside the regenerated area."""
    centre = (BOWL_LEFT + BOWL_RIGHT) / 2
    half_width = (BOWL_RIGHT - BOWL_LEFT) / 2
    depth = np.clip((y - CURVE_START) / (BOWL_BOTTOM - CURVE_START), 0.0, None)
    across = np.abs(x - centre - BOTTOM_LEAN * depth**2) / half_width
    bowl = (across**EXPONENT_ACROSS + depth**EXPONENT_DOWN <= 1.0) & (y >= BOWL_TOP)
    notch = (x >= NOTCH_LEFT) & (x < NOTCH_RIGHT) & (y < NOTCH_BOTTOM)
    return bowl & ~notch


@lru_cache(maxsize=8)
def _mouth_mask_cached(resolution: int) -> np.ndarray:
    samples = resolution * SUPERSAMPLING
    coords = (np.arange(samples, dtype=np.float64) + 0.5) * (DESIGN_SIZE / samples)
    inside = _regenerate_region(coords[None, :], coords[:, None])
    coverage = inside.reshape(resolution, SUPERSAMPLING, resolution, SUPERSAMPLING).mean(axis=(1, 3))
    mask = (1.0 - coverage).astype(np.float32)
    mask.flags.writeable = False
    return mask


def mouth_mask(resolution: int) -> np.ndarray:
    """float32 [res, res]: 1 = keep the reference pixels, 0 = regenerate (the mouth region)."""
    if resolution <= 0:
        raise ValueError(f"resolution must be positive, got {resolution}")
    return _mouth_mask_cached(int(resolution)).copy()
