"""Generated model-resolution faces -> the crops paste-back blends into each frame."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from latentsync.face.enhancer import paste_size
from latentsync.pipeline.timing import NO_TIMES, StageTimes


def resize_generated(faces: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Model-resolution faces [N,3,r,r] -> crop size, as float CPU tensors in [-1, 1]."""
    resized = F.interpolate(
        faces.float(), size=(height, width), mode="bicubic", antialias=True, align_corners=False
    )
    return resized.clamp(-1, 1).cpu()


def crops_to_paste(
    faces: torch.Tensor,
    affines: Sequence[np.ndarray],
    crop_width: int,
    crop_height: int,
    enhancer=None,
    timings: StageTimes = NO_TIMES,
) -> list[torch.Tensor]:
    """One crop per face (``affines``: each frame's frame -> crop map): restored first with an
    enhancer, and kept at the crop's size in the frame when the restorer upscales."""
    if enhancer is None:
        return list(resize_generated(faces, crop_height, crop_width))

    with timings.measure("enhance", len(affines)):
        restored = enhancer.restore(faces, crop_width, crop_height)
    crops = []
    for face, affine in zip(restored, affines):
        width, height = crop_width, crop_height
        if enhancer.scale > 1:
            width, height = paste_size(crop_width, crop_height, affine)
        crops.append(resize_generated(face[None], height, width)[0])
    return crops
