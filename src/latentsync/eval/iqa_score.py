"""Visual quality of a clip with hyperIQA, as the data pipeline's quality filter measures it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from latentsync.errors import InputError
from latentsync.models.hyperiqa import HyperNet, predict_quality

CROP = 224
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
MIN_QUALITY = 40.0  # clips scoring below this are dropped by the pipeline


def sample_frames(frames: Sequence[np.ndarray]) -> list[np.ndarray]:
    """First, middle (index len // 2) and last frame: the ones a clip is judged by."""
    if len(frames) == 0:
        raise InputError("cannot score the quality of a clip without frames")
    return [frames[0], frames[len(frames) // 2], frames[-1]]


def _center_crop(images: torch.Tensor, size: int) -> torch.Tensor:
    """Centre crop of [B,C,H,W]; smaller images are zero-padded first (torchvision semantics)."""
    height, width = images.shape[-2:]
    if height < size or width < size:
        pad_w, pad_h = max(size - width, 0), max(size - height, 0)
        images = F.pad(images, (pad_w // 2, (pad_w + 1) // 2, pad_h // 2, (pad_h + 1) // 2), value=0.0)
        height, width = images.shape[-2:]
    top = int(round((height - size) / 2.0))
    left = int(round((width - size) / 2.0))
    return images[..., top : top + size, left : left + size]


def quality_input(frames_uint8: Sequence[np.ndarray]) -> torch.Tensor:
    """uint8 RGB frames [H,W,3] -> [N,3,224,224] centre crops in [0,1], ImageNet-normalised."""
    arrays = [np.asarray(f) for f in frames_uint8]
    if not arrays or any(a.ndim != 3 or a.shape[2] != 3 for a in arrays):
        raise InputError(f"expected RGB frames [H, W, 3], got shapes {[a.shape for a in arrays]}")
    images = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).float() / 255.0
    images = _center_crop(images, CROP)
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return (images - mean) / std


@torch.no_grad()
def frame_quality_scores(model: HyperNet, frames_uint8: Sequence[np.ndarray]) -> torch.Tensor:
    """hyperIQA score of each given frame (0-100 scale for the published weights)."""
    device = next(model.parameters()).device
    return predict_quality(model, quality_input(frames_uint8).to(device)).cpu()


def clip_quality_score(frames_uint8: Sequence[np.ndarray], model: HyperNet) -> float:
    """Mean hyperIQA score over a clip's first, middle and last frames."""
    return float(frame_quality_scores(model, sample_frames(frames_uint8)).mean())
