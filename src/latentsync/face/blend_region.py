"""Where a generated face replaces the source: the whole crop (``face``) or only the mouth (``mouth``).

The original pastes the whole 512-px crop back. Outside the mouth mask that crop is the source
itself, resampled to 512 and back, so at 4K the eyes and skin come back blurred. ``mouth`` keeps
the source pixels there: the model's mask region (what it was asked to change) is warped into the
frame, dilated and feathered *in frame pixels*, so the ramp is smooth at any output size and lies
in the ring where the generated crop still equals the (resampled) source: no visible seam.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from latentsync.face.mask import mouth_mask

BLEND_MODES = ("face", "mouth")
DEFAULT_BLEND = "mouth"
# Ramp width as a fraction of the crop's height in the frame (a 560-px crop -> 8 px). The region
# is dilated by two ramp widths first, so the feathered edge never reaches into the mask region.
FEATHER_FRACTION = 1 / 70


@lru_cache(maxsize=16)
def mouth_region_crop(resolution: int, crop_width: int, crop_height: int) -> np.ndarray:
    """float32 [crop_h, crop_w]: 1 where the model regenerates (the mouth mask), in crop pixels."""
    region = 1.0 - mouth_mask(resolution)
    resized = cv2.resize(region, (crop_width, crop_height), interpolation=cv2.INTER_LINEAR)
    resized.flags.writeable = False
    return resized


def feather_pixels(crop_height: int, frame_to_crop: np.ndarray) -> int:
    """Ramp width in frame pixels for a crop made with ``frame_to_crop`` (grows with the face's size)."""
    det = abs(float(np.linalg.det(np.asarray(frame_to_crop, dtype=np.float64).reshape(2, 3)[:, :2])))
    height_in_frame = crop_height / max(det, 1e-12) ** 0.5
    return max(1, int(round(height_in_frame * FEATHER_FRACTION)))


def region_weight(
    crop_region: np.ndarray, crop_to_region: np.ndarray, size: tuple[int, int], feather: int
) -> np.ndarray:
    """The crop-space ``crop_region`` warped into a frame region (``size`` = width, height), dilated by
    ``2 * feather`` and Gaussian-feathered over ``feather`` frame pixels: float32 [h, w] in [0, 1]."""
    warped = cv2.warpAffine(
        np.ascontiguousarray(crop_region, dtype=np.float32),
        crop_to_region,
        size,
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    grow = 2 * feather
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1))
    dilated = cv2.dilate(warped, kernel)
    soft = cv2.GaussianBlur(
        dilated, (2 * feather + 1, 2 * feather + 1), feather / 2, borderType=cv2.BORDER_REPLICATE
    )
    return np.clip(soft, 0.0, 1.0)


def paste_geometry(
    frame_to_crop: np.ndarray,
    face_size: tuple[int, int],
    crop_width: int,
    crop_height: int,
    resolution: int,
    blend: str,
) -> tuple[np.ndarray, np.ndarray | None]:
    """(frame -> face affine, blend region or None) for a face of ``face_size`` (width, height) made
    from the aligned crop: an enhancer may return it larger, at its size in the frame."""
    width, height = face_size
    affine = np.asarray(frame_to_crop, dtype=np.float64).reshape(2, 3)
    if (width, height) != (crop_width, crop_height):
        affine = affine * np.array([[width / crop_width], [height / crop_height]])
    region = mouth_region_crop(resolution, width, height) if blend == "mouth" else None
    return affine, region
