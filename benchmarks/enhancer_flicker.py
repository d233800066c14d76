"""Temporal flicker of ``--enhancer`` on a static face: mean |frame t - frame t-1| in the mouth region.

Run from the repo root: ``python -m benchmarks.enhancer_flicker [--enhancer PATH] [--frames N]``.
A static clip (the golden frame0, a real face, scaled to 4K: a ~490-px face crop) is "generated" N
times: the original's generated crop plus small seeded per-frame noise inside the mouth mask,
standing in for the diffusion's frame-to-frame variation. Each frame goes through the product's
path (enhancer -> crop at its size in the frame -> ``--blend mouth`` paste) with the enhancer off
and on, and the table reports the mean absolute frame-to-frame change of the pasted mouth region
(0-255) and the ratio on/off (> 1: the enhancer amplifies flicker). Without ``--enhancer`` it uses
deterministic-weight GFPGAN and CodeFormer (tests/helpers/enhancer_models.py): the published
weights cannot be downloaded here, so those rows measure the architectures' sensitivity to input
jitter, not the trained restorers'; pass ``--enhancer GFPGANv1.4.pth`` to measure the real one.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
from pathlib import Path

import cv2
import numpy as np
import torch

from latentsync.face.align import FaceAligner, crop_size
from latentsync.face.blend_region import mouth_region_crop, paste_geometry
from latentsync.face.enhancer import FaceEnhancer
from latentsync.face.mask import mouth_mask
from latentsync.face.paste_back import paste_back_roi
from latentsync.pipeline.crops import crops_to_paste
from tests.helpers.enhancer_models import write_codeformer, write_gfpgan
from tests.helpers.golden import reference

logger = logging.getLogger("benchmarks.enhancer_flicker")

RESOLUTION = 512
FRAME_SIZE = (2160, 3840)  # portrait 4K, as the golden frame
JITTER = 3 / 127.5  # per-frame noise (3 levels of 255) inside the mouth mask


def generated_frames(count: int) -> torch.Tensor:
    """[count, 3, r, r]: the original's generated crop plus seeded per-frame noise in the mouth."""
    generated = reference("align_restore")["frame0_generated_face"].float()[None]
    base = torch.nn.functional.interpolate(generated, size=(RESOLUTION, RESOLUTION), mode="bicubic")[0]
    inside = 1 - torch.from_numpy(mouth_mask(RESOLUTION))
    noise = torch.randn((count, 3, RESOLUTION, RESOLUTION), generator=torch.Generator().manual_seed(0))
    return (base[None] + JITTER * noise * inside).clamp(-1, 1)


def pasted(frame: np.ndarray, crop: torch.Tensor, affine: np.ndarray) -> np.ndarray:
    crop_w, crop_h = crop_size(RESOLUTION)
    height, width = crop.shape[-2:]
    face_affine, region = paste_geometry(affine, (width, height), crop_w, crop_h, RESOLUTION, "mouth")
    return paste_back_roi(frame, crop, face_affine, region=region)


def flicker(outputs: list[np.ndarray], where: np.ndarray) -> float:
    changes = [np.abs(b[where].astype(np.float64) - a[where]).mean() for a, b in zip(outputs, outputs[1:])]
    return float(np.mean(changes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--enhancer", type=Path, action="append", help="spandrel checkpoint(s) to measure")
    parser.add_argument("--frames", type=int, default=4)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    ref = reference("align_restore")
    base = ref["frame0"].numpy()
    scale = FRAME_SIZE[0] / base.shape[1]
    frame = cv2.resize(base, FRAME_SIZE, interpolation=cv2.INTER_LANCZOS4)
    _, affine = FaceAligner(RESOLUTION).warp(frame, ref["frame0_landmarks3"].numpy() * scale)
    crop_w, crop_h = crop_size(RESOLUTION)
    inverse = cv2.invertAffineTransform(affine.astype(np.float64))
    region = mouth_region_crop(RESOLUTION, crop_w, crop_h)
    where = cv2.warpAffine(region, inverse, FRAME_SIZE, flags=cv2.INTER_LINEAR) > 0.5
    faces = generated_frames(args.frames)

    with tempfile.TemporaryDirectory() as scratch:
        checkpoints = args.enhancer or [
            write_gfpgan(Path(scratch) / "gfpgan_deterministic.pth"),
            write_codeformer(Path(scratch) / "codeformer_deterministic.pth"),
        ]
        off = [pasted(frame, c, affine) for c in crops_to_paste(faces, [affine] * len(faces), crop_w, crop_h)]
        baseline = flicker(off, where)
        logger.info(f"static face, 4K, {args.frames} frames, mouth region {int(where.sum())} px")
        logger.info(f"{'enhancer':>32} {'flicker':>8} {'on/off':>7}")
        logger.info(f"{'off':>32} {baseline:8.3f} {1.0:7.2f}")
        for path in checkpoints:
            enhancer = FaceEnhancer(path)
            crops = crops_to_paste(faces, [affine] * len(faces), crop_w, crop_h, enhancer)
            on = flicker([pasted(frame, c, affine) for c in crops], where)
            logger.info(f"{Path(path).name:>32} {on:8.3f} {on / baseline:7.2f}")


if __name__ == "__main__":
    main()
