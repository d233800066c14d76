"""``--blend mouth``: only the mask region (dilated, feathered in frame pixels) replaces the source."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from latentsync.face.align import crop_size
from latentsync.face.blend_region import feather_pixels, mouth_region_crop
from latentsync.face.paste_back import paste_back_roi
from tests.face.media import align_reference


def _mapped(region: np.ndarray, affine: np.ndarray, frame_shape) -> np.ndarray:
    """Crop-space weights warped into the frame (no dilation): where the mask region lands."""
    inverse = cv2.invertAffineTransform(affine.astype(np.float64))
    return cv2.warpAffine(region, inverse, (frame_shape[1], frame_shape[0]), flags=cv2.INTER_LINEAR)


def _generated_unlike_source(ref) -> np.ndarray:
    """The golden generated crop, inverted: every replaced pixel differs visibly from the source."""
    return -np.asarray(ref["frame0_generated_face"], dtype=np.float32)


def test_mouth_blend_keeps_source_outside_and_matches_face_blend_inside():
    ref = align_reference()
    frame, affine = ref["frame0"], ref["frame0_affine"]
    generated = _generated_unlike_source(ref)
    width, height = crop_size(512)
    region = mouth_region_crop(512, width, height)
    face = paste_back_roi(frame, generated, affine)
    mouth = paste_back_roi(frame, generated, affine, region=region)

    changed_face = np.abs(face.astype(int) - frame).max(axis=2) > 0
    changed_mouth = np.abs(mouth.astype(int) - frame).max(axis=2) > 0
    assert changed_mouth.sum() < 0.7 * changed_face.sum()  # the eyes/forehead part stays untouched
    assert not (changed_mouth & ~changed_face).any()

    inside = _mapped(region, affine, frame.shape)
    core = cv2.erode((inside > 0.999).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    assert core.sum() > 5000
    # Inside the mask region the generated pixels are taken exactly as the original's blend takes them.
    assert np.abs(mouth[core].astype(int) - face[core]).max() <= 1

    feather = feather_pixels(height, affine)
    outside = _mapped(region, affine, frame.shape) > 0
    far = ~cv2.dilate(outside.astype(np.uint8), np.ones((6 * feather + 3,) * 2, np.uint8)).astype(bool)
    assert np.array_equal(mouth[far], frame[far])
    ring = changed_mouth & ~outside
    assert ring.any()  # the feathered ring outside the mask does blend
    # the ring blends partially: between the source and the whole-face result
    lo = np.minimum(face[ring].astype(int), frame[ring]) - 1
    hi = np.maximum(face[ring].astype(int), frame[ring]) + 1
    assert ((mouth[ring] >= lo) & (mouth[ring] <= hi)).all()


def test_feather_is_measured_in_frame_pixels():
    ref = align_reference()
    affine = np.asarray(ref["frame0_affine"], dtype=np.float64)
    width, height = crop_size(512)
    base = feather_pixels(height, affine)
    twice = affine.copy()
    twice[:, :2] /= 2  # the same face at twice the frame resolution
    assert feather_pixels(height, twice) in (2 * base - 1, 2 * base, 2 * base + 1)
    assert base >= 1


def test_region_must_match_the_face_size():
    ref = align_reference()
    region = mouth_region_crop(512, 210, 280)
    with pytest.raises(ValueError, match="blend region"):
        paste_back_roi(ref["frame0"], ref["frame0_generated_face"], ref["frame0_affine"], region=region)


@pytest.mark.parametrize("alpha", [0.0, 0.25, 0.5, 0.75])
def test_fade_mixes_the_pasted_face_with_the_source(alpha):
    """``alpha`` (the fade at the edges of a face's appearance) mixes the full paste with the source,
    rounded, and only where the paste changed the frame."""
    ref = align_reference()
    frame, affine = ref["frame0"], ref["frame0_affine"]
    generated = _generated_unlike_source(ref)
    full = paste_back_roi(frame, generated, affine)
    faded = paste_back_roi(frame, generated, affine, alpha=alpha)
    expected = np.clip(
        np.rint(full.astype(np.float32) * alpha + frame.astype(np.float32) * (1 - alpha)), 0, 255
    )
    assert np.array_equal(faded, expected.astype(np.uint8))
    assert np.array_equal(faded[full == frame], frame[full == frame])
    assert np.array_equal(paste_back_roi(frame, generated, affine, alpha=1.0), full)
