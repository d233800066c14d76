"""Face restoration of the generated crops (``--enhancer``), with any model spandrel can load.

The generated 512-px crop is soft, and at 4K a face is ~1000 px: pasting it back enlarges the
blur. A face-restoration network (GFPGAN, CodeFormer) or any spandrel super-resolution checkpoint
restores the crop before paste-back; ``strength`` blends the restored crop with the generated
one. The model input is square, but our crop is 420x560 stretched to 512x512, so the face is first
brought back to its true aspect (and reflect-padded to a square) so the restorer sees an undistorted
face. When the network upscales, the result is kept at the crop's size *in the output frame*
(``paste_size``) instead of being shrunk to the 420x560 crop and enlarged again by the paste.
"""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F

from latentsync.errors import ConfigError

if TYPE_CHECKING:
    from latentsync.pipeline.options import InferenceOptions

logger = logging.getLogger(__name__)

ENHANCER_NAMES = ("gfpgan", "codeformer")
RESTORE_SIZE = 512  # the square size face restorers are trained at


def _spandrel():
    try:
        import spandrel
    except ImportError as exc:
        raise ConfigError(
            "--enhancer needs spandrel: pip install 'latentsync[enhance]' (spandrel, spandrel-extra-arches)"
        ) from exc
    try:
        import spandrel_extra_arches

        spandrel_extra_arches.install(ignore_duplicates=True)  # CodeFormer lives there
    except ImportError:
        logger.debug("spandrel-extra-arches not installed: CodeFormer checkpoints will not load")
    return spandrel


def enhancer_path(choice: str, allow_download: bool = True, aux_dir: str | os.PathLike | None = None) -> Path:
    """``--enhancer`` value -> checkpoint file: a known name through the weights resolver (``--aux-dir``
    first, like every auxiliary file), or a path."""
    from latentsync import weights

    if choice in ENHANCER_NAMES:
        spec = weights.enhancer_file(choice)
        return weights.resolve([spec], allow_download=allow_download, aux_dir=aux_dir)[spec.key]
    path = Path(choice).expanduser()
    if not path.is_file():
        raise ConfigError(f"--enhancer {choice}: not a file and not one of {', '.join(ENHANCER_NAMES)}")
    return path


def locate_enhancer(options: InferenceOptions) -> InferenceOptions:
    """``options`` with a named enhancer replaced by its checkpoint's path, looked up like every
    auxiliary file (``--aux-dir`` first): a missing file is one line before any model is loaded."""
    if not options.enhancer:
        return options
    return replace(options, enhancer=str(enhancer_path(options.enhancer, aux_dir=options.aux_dir)))


def paste_size(crop_width: int, crop_height: int, frame_to_crop: np.ndarray) -> tuple[int, int]:
    """(width, height) to paste a restored crop at: the crop's size in the frame, never below the crop."""
    det = abs(float(np.linalg.det(np.asarray(frame_to_crop, dtype=np.float64).reshape(2, 3)[:, :2])))
    scale = max(1.0, 1.0 / max(det, 1e-12) ** 0.5)
    return int(round(crop_width * scale)), int(round(crop_height * scale))


def _dtype_for(descriptor, wanted: torch.dtype) -> torch.dtype:
    if wanted == torch.float16 and descriptor.supports_half:
        return torch.float16
    if wanted == torch.bfloat16 and descriptor.supports_bfloat16:
        return torch.bfloat16
    return torch.float32  # e.g. GFPGAN/CodeFormer declare fp16 unsafe: they run in fp32 on CUDA too


class FaceEnhancer:
    """A spandrel image model that restores generated face crops, blended in by ``strength``."""

    def __init__(
        self,
        path: str | Path,
        strength: float = 1.0,
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
    ):
        if not 0.0 <= strength <= 1.0:
            raise ConfigError(f"--enhancer-strength must be between 0 and 1, got {strength}")
        spandrel = _spandrel()
        try:
            descriptor = spandrel.ModelLoader(device=torch.device(device)).load_from_file(str(path))
        except spandrel.UnsupportedModelError as exc:
            raise ConfigError(f"--enhancer {path}: not an architecture spandrel knows ({exc})") from None
        if not isinstance(descriptor, spandrel.ImageModelDescriptor) or descriptor.input_channels != 3:
            raise ConfigError(
                f"--enhancer {path}: {descriptor.architecture.name} is not an RGB image-to-image model"
            )
        self.dtype = _dtype_for(descriptor, dtype)
        self.device = torch.device(device)
        self.descriptor = descriptor.to(self.device, self.dtype).eval()
        self.strength = float(strength)
        self.scale = int(descriptor.scale)
        logger.info(
            "enhancer: %s (%s, x%d) at strength %.2f",
            Path(path).name,
            descriptor.architecture.name,
            self.scale,
            strength,
        )

    @torch.no_grad()
    def restore(self, faces: torch.Tensor, crop_width: int, crop_height: int) -> torch.Tensor:
        """Model-resolution faces [N,3,r,r] in [-1,1] -> restored faces at the crop's aspect,
        [N, 3, scale*512, scale*512*w/h] float CPU in [-1,1], blended with the input by ``strength``."""
        height = RESTORE_SIZE
        width = int(round(RESTORE_SIZE * crop_width / crop_height))
        upright = F.interpolate(
            faces.float().cpu(), size=(height, width), mode="bicubic", antialias=True, align_corners=False
        ).clamp(-1, 1)
        left = (RESTORE_SIZE - width) // 2
        square = F.pad(upright, (left, RESTORE_SIZE - width - left, 0, 0), mode="reflect")
        restored = []
        for face in square:  # one at a time: restorers are big and their activations bigger
            image = (face[None].to(self.device, self.dtype) + 1) / 2
            restored.append(self.descriptor(image).float().cpu() * 2 - 1)
        out = torch.cat(restored)[..., left * self.scale : (left + width) * self.scale]
        if self.strength < 1.0:
            generated = upright
            if self.scale != 1:
                generated = F.interpolate(upright, size=out.shape[-2:], mode="bicubic", align_corners=False)
            out = generated + self.strength * (out - generated)
        return out.clamp(-1, 1)
