"""Paste a generated face crop back into its frame the way LatentSync does, touching only the face region.

The original warps a crop-sized mask of ones into the full frame, erodes it by 2x2, erodes it again
by a face-size-dependent square and Gaussian-blurs that into a feathered blend weight; all of this
on the whole frame (0.2 s at 1080p, 1.7 s at 4K). Every one of those maps is exactly zero farther
than the blur radius from the warped crop, so computing them on the crop's bounding box plus that
margin gives the same pixels at O(face) cost. ``paste_back_full_frame`` keeps the full-frame
computation as the reference the ROI path is tested and benchmarked against.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from latentsync.face.blend_region import feather_pixels, region_weight
from latentsync.face.roi import mapped_crop_roi, translate_output

FILL_VALUE = 127.0  # what the original warps in outside the crop
EDGE_EROSION = 2  # first erosion kernel (2x2) that drops the mask's bilinear edge
WARP_MARGIN = 2  # pixels past the warped crop's pixel centres that bilinear sampling can touch


def face_to_hwc(face: torch.Tensor | np.ndarray) -> np.ndarray:
    """Float CHW crop in [-1,1] (tensor or array) -> contiguous float32 HWC array."""
    if isinstance(face, torch.Tensor):
        face = face.detach().to(device="cpu", dtype=torch.float32).numpy()
    face = np.asarray(face, dtype=np.float32)
    if face.ndim != 3 or face.shape[0] != 3:
        raise ValueError(f"expected a face crop [3, H, W], got shape {face.shape}")
    return np.ascontiguousarray(face.transpose(1, 2, 0))


def feather_width(mask_area: float) -> int:
    """Edge width the original derives from the pasted area: sqrt(area) // 20."""
    return int(mask_area**0.5) // 20


def max_feather_width(crop_height: int, crop_width: int, frame_to_crop: np.ndarray) -> int:
    """Upper bound of ``feather_width`` before warping: the crop's area in the frame is its area over |det|."""
    det = abs(float(np.linalg.det(np.asarray(frame_to_crop, dtype=np.float64)[:, :2])))
    return feather_width(crop_height * crop_width / max(det, 1e-12)) + 1


def _blend_region(
    frame_region: np.ndarray,
    face_hwc: np.ndarray,
    crop_to_region: np.ndarray,
    region: np.ndarray | None = None,
    feather: int = 0,
) -> np.ndarray:
    """The original's blend computed on one region; ``crop_to_region`` maps crop pixels to region pixels.

    ``region`` (crop-space weights, 1 = take the generated face) narrows the blend to that part of
    the crop, feathered over ``feather`` frame pixels (``--blend mouth``); None = the whole crop."""
    region_height, region_width = frame_region.shape[:2]
    size = (region_width, region_height)
    crop_ones = np.ones(face_hwc.shape[:2], dtype=np.float32)
    mask = cv2.warpAffine(
        crop_ones, crop_to_region, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )
    # cv2's default erosion border ignores outside pixels, like kornia's geodesic border.
    mask = cv2.erode(mask, np.ones((EDGE_EROSION, EDGE_EROSION), np.uint8))

    edge = feather_width(float(mask.sum(dtype=np.float64)))
    center = mask
    if edge > 0:
        center = cv2.erode(mask, np.ones((2 * edge, 2 * edge), np.uint8))
    blur_size = 2 * edge + 1
    sigma = 0.3 * ((blur_size - 1) * 0.5 - 1) + 0.8
    soft = cv2.GaussianBlur(center, (blur_size, blur_size), sigma, borderType=cv2.BORDER_REFLECT_101)
    if region is not None:
        soft = soft * region_weight(region, crop_to_region, size, feather)

    inv_face = cv2.warpAffine(
        face_hwc,
        crop_to_region,
        size,
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(FILL_VALUE, FILL_VALUE, FILL_VALUE),
    )
    inv_face = np.clip(inv_face * 0.5 + 0.5, 0.0, 1.0) * 255.0
    soft = soft[..., None]
    blended = soft * (mask[..., None] * inv_face) + (1.0 - soft) * frame_region.astype(np.float32)
    # The original converts with a truncating cast, not rounding.
    return np.clip(blended, 0, 255).astype(np.uint8)


def paste_back_roi(
    frame_rgb: np.ndarray,
    face: torch.Tensor | np.ndarray,
    frame_to_crop: np.ndarray,
    inplace: bool = False,
    region: np.ndarray | None = None,
    alpha: float = 1.0,
) -> np.ndarray:
    """Blend ``face`` (float [3,H,W] in [-1,1], the crop made with ``frame_to_crop`` [2,3]) into the frame.

    Only the crop's footprint plus the feather margin is read and written; faces partly outside the
    frame are clipped to it. ``region`` ([H, W] weights in crop pixels) limits the replaced part
    (see ``latentsync.face.blend_region``). ``alpha`` < 1 fades the pasted face with the source
    (the fade in and out at the edges of a face's appearance). Returns the frame (a copy unless
    ``inplace``).
    """
    face_hwc = face_to_hwc(face)
    crop_height, crop_width = face_hwc.shape[:2]
    frame_height, frame_width = frame_rgb.shape[:2]
    frame_to_crop = np.asarray(frame_to_crop, dtype=np.float64).reshape(2, 3)
    crop_to_frame = cv2.invertAffineTransform(frame_to_crop)

    margin = WARP_MARGIN + max_feather_width(crop_height, crop_width, frame_to_crop) + 1
    roi = mapped_crop_roi(crop_to_frame, crop_height, crop_width, margin, frame_height, frame_width)
    out = frame_rgb if inplace else frame_rgb.copy()
    if roi.empty:
        return out
    if region is not None and region.shape != (crop_height, crop_width):
        raise ValueError(
            f"blend region {region.shape} does not match the face crop {(crop_height, crop_width)}"
        )
    feather = feather_pixels(crop_height, frame_to_crop) if region is not None else 0
    source = frame_rgb[roi.slices]
    pasted = _blend_region(source, face_hwc, translate_output(crop_to_frame, roi.x0, roi.y0), region, feather)
    if alpha < 1.0:
        faded = pasted.astype(np.float32) * alpha + source.astype(np.float32) * (1 - alpha)
        pasted = np.clip(np.rint(faded), 0, 255).astype(np.uint8)
    out[roi.slices] = pasted
    return out


def paste_back_full_frame(
    frame_rgb: np.ndarray, face: torch.Tensor | np.ndarray, frame_to_crop: np.ndarray
) -> np.ndarray:
    """Reference: the same blend computed over the whole frame, as the original does (O(frame) cost)."""
    crop_to_frame = cv2.invertAffineTransform(np.asarray(frame_to_crop, dtype=np.float64).reshape(2, 3))
    return _blend_region(frame_rgb, face_to_hwc(face), crop_to_frame)
