"""The procedural mouth mask against the original's mask.png (resized as the original loads it)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from latentsync.face.mask import mouth_mask
from tests.helpers.golden import GOLDEN


def original_mask(resolution: int) -> np.ndarray:
    """mask.png as the original's load_fixed_mask: Lanczos resize, /255, first channel (1 = keep)."""
    image = cv2.cvtColor(cv2.imread(str(GOLDEN / "mask.png")), cv2.COLOR_BGR2RGB)
    return cv2.resize(image, (resolution, resolution), interpolation=cv2.INTER_LANCZOS4)[..., 0] / 255.0


def regenerate_iou(ours: np.ndarray, theirs: np.ndarray) -> float:
    a, b = ours < 0.5, theirs < 0.5
    return (a & b).sum() / (a | b).sum()


@pytest.mark.parametrize("resolution", [256, 512])
def test_mask_matches_original(resolution):
    mask = mouth_mask(resolution)
    assert mask.dtype == np.float32 and mask.shape == (resolution, resolution)
    assert mask.min() == 0.0 and mask.max() == 1.0
    assert regenerate_iou(mask, original_mask(resolution)) >= 0.99


def test_mask_layout():
    mask = mouth_mask(256)
    assert mask[:90].min() == 1.0  # eyes and nose are kept
    assert mask[200, 128] == 0.0  # chin/mouth area is regenerated
    assert mask[110, 128] == 1.0  # the notch under the nose is kept
    assert mask[110, 40] == 0.0  # cheeks beside it are not
    mask[0, 0] = 0.5  # callers get their own copy
    assert mouth_mask(256)[0, 0] == 1.0
