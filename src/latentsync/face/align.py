"""Face crops aligned to LatentSync's 3-point template, and their paste-back into the frame.

The template and crop size are those the published models were trained with: eyebrow centres and
nose centre at (17,20), (58,20), (37.5,40) in a 75x100 box, all scaled by resolution/256*2.8 (a
420x560 crop at 512, 210x280 at 256), later resized to the square model input with Lanczos.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from latentsync.face.paste_back import FILL_VALUE, WARP_MARGIN, paste_back_roi
from latentsync.face.roi import mapped_crop_roi, shift_affine
from latentsync.face.similarity import SmoothedSimilarity

TEMPLATE_POINTS = np.array([[17.0, 20.0], [58.0, 20.0], [37.5, 40.0]])
TEMPLATE_BOX = (75, 100)  # width, height in template units


def template_scale(resolution: int) -> float:
    return resolution / 256 * 2.8


def crop_size(resolution: int) -> tuple[int, int]:
    """(width, height) of the aligned crop: 420x560 at 512, 210x280 at 256."""
    scale = template_scale(resolution)
    return int(TEMPLATE_BOX[0] * scale), int(TEMPLATE_BOX[1] * scale)


class FaceAligner:
    """Per-video aligner: smooths the crop translation over consecutive ``warp`` calls (``reset`` between videos)."""

    def __init__(self, resolution: int = 512):
        self.resolution = resolution
        self.crop_width, self.crop_height = crop_size(resolution)
        self.template = TEMPLATE_POINTS * template_scale(resolution)
        self._similarity = SmoothedSimilarity(self.template)

    def reset(self) -> None:
        self._similarity.reset()

    def smoothing_state(self) -> list[float] | None:
        """What the temporal smoothing remembers, JSON-able (for resume)."""
        return self._similarity.state()

    def restore_smoothing(self, state: list[float] | None) -> None:
        self._similarity.restore(state)

    def estimate(self, landmarks3: np.ndarray, smooth: bool = True) -> np.ndarray:
        """Frame -> crop affine [2,3] float32 for landmarks3 [3,2] (advances the smoothing state)."""
        return self._similarity(np.asarray(landmarks3, dtype=np.float64).reshape(3, 2), smooth=smooth)

    def warp(
        self, frame_rgb: np.ndarray, landmarks3: np.ndarray, smooth: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """uint8 RGB frame + landmarks3 -> (uint8 crop [crop_h, crop_w, 3], frame->crop affine [2,3] float32)."""
        affine = self.estimate(landmarks3, smooth=smooth)
        return self.warp_with(frame_rgb, affine), affine

    def warp_with(self, frame_rgb: np.ndarray, affine: np.ndarray) -> np.ndarray:
        """Bilinear crop for a known affine; reads only the crop's footprint in the frame."""
        if frame_rgb.ndim != 3 or frame_rgb.shape[2] != 3 or frame_rgb.dtype != np.uint8:
            raise ValueError(f"expected a uint8 RGB frame [H, W, 3], got {frame_rgb.dtype} {frame_rgb.shape}")
        frame_height, frame_width = frame_rgb.shape[:2]
        frame_to_crop = np.asarray(affine, dtype=np.float64).reshape(2, 3)
        footprint = mapped_crop_roi(
            cv2.invertAffineTransform(frame_to_crop),
            self.crop_height,
            self.crop_width,
            WARP_MARGIN,
            frame_height,
            frame_width,
        )
        size = (self.crop_width, self.crop_height)
        fill = (FILL_VALUE, FILL_VALUE, FILL_VALUE)
        if footprint.empty:
            return np.full((self.crop_height, self.crop_width, 3), int(FILL_VALUE), dtype=np.uint8)
        source = frame_rgb[footprint.slices].astype(np.float32)
        crop = cv2.warpAffine(
            source,
            shift_affine(frame_to_crop, footprint.x0, footprint.y0),
            size,
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=fill,
        )
        # Float warp then truncating cast, as the original (cv2's uint8 warp would round instead).
        return np.clip(crop, 0, 255).astype(np.uint8)

    def resize_to_model(self, face_uint8: np.ndarray) -> np.ndarray:
        """Crop -> uint8 [res, res, 3] model input (Lanczos, as the original)."""
        return cv2.resize(face_uint8, (self.resolution, self.resolution), interpolation=cv2.INTER_LANCZOS4)

    def paste_back(
        self,
        frame_rgb: np.ndarray,
        face: torch.Tensor | np.ndarray,
        affine: np.ndarray,
        inplace: bool = False,
    ) -> np.ndarray:
        """Blend a float [3, crop_h, crop_w] face in [-1,1] back into the frame; O(face) cost."""
        if tuple(face.shape) != (3, self.crop_height, self.crop_width):
            raise ValueError(
                f"expected a face crop [3, {self.crop_height}, {self.crop_width}], got {tuple(face.shape)}"
            )
        return paste_back_roi(frame_rgb, face, affine, inplace=inplace)
