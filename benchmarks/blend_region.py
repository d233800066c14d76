"""Upper-face fidelity of ``--blend face`` vs ``--blend mouth`` at 1080p and 4K.

Run from the repo root: ``python -m benchmarks.blend_region``. The golden frame0 (a real talking
head, via tests.helpers) is scaled to each output size with Lanczos; the face goes through the real
path: aligned crop -> 512 model input -> "model output" (the original's generated mouth inside the
mask, the 512 input elsewhere, as the pipeline composes it) -> bicubic back to crop size -> paste.
For the upper face (crop rows above the mask, warped into the frame) it prints PSNR against the
source and the variance of the Laplacian (sharpness) of source and output. Two series: the whole
frame scaled (the demo face stays small), and a close-up (a window around the face scaled so the
face crop is 500 px at 1080p, 1000 px at 4K). Upscaled footage has no real 4K detail, so the
sharpness loss of ``face`` here is a lower bound of what real 4K footage loses.
"""

from __future__ import annotations

import argparse
import logging

import cv2
import numpy as np
import torch

from latentsync.face.align import FaceAligner, crop_size
from latentsync.face.blend_region import mouth_region_crop
from latentsync.face.mask import BOWL_TOP, DESIGN_SIZE, mouth_mask
from latentsync.face.paste_back import paste_back_roi
from latentsync.pipeline.crops import resize_generated
from tests.helpers.golden import reference

logger = logging.getLogger("benchmarks.blend_region")

RESOLUTION = 512
SIZES = {"1080p": (1080, 1920), "4K": (2160, 3840)}  # portrait width, height, as the golden frame
CLOSE_UP_FACE = {"1080p": 500, "4K": 1000}  # crop height (px) of the close-up series
UPPER_FACE_END = 0.9 * BOWL_TOP / DESIGN_SIZE  # crop rows above the mask, with a margin


def model_output(face512: np.ndarray, generated512: np.ndarray) -> torch.Tensor:
    """[3, r, r] in [-1, 1]: the generated mouth inside the mask, the model input elsewhere."""
    mask = torch.from_numpy(mouth_mask(RESOLUTION))
    pixels = torch.from_numpy(face512).permute(2, 0, 1).float() / 127.5 - 1
    return generated512 * (1 - mask) + pixels * mask


def upper_face_mask(affine: np.ndarray, frame_shape: tuple[int, ...]) -> np.ndarray:
    width, height = crop_size(RESOLUTION)
    crop = np.zeros((height, width), np.uint8)
    crop[int(0.05 * height) : int(UPPER_FACE_END * height), int(0.1 * width) : int(0.9 * width)] = 1
    inverse = cv2.invertAffineTransform(affine.astype(np.float64))
    return cv2.warpAffine(crop, inverse, (frame_shape[1], frame_shape[0]), flags=cv2.INTER_NEAREST) > 0


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def laplacian_variance(frame: np.ndarray, where: np.ndarray) -> float:
    gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float64)
    return float(cv2.Laplacian(gray, cv2.CV_64F, ksize=3)[where].var())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    ref = reference("align_restore")
    base = ref["frame0"].numpy()
    landmarks = ref["frame0_landmarks3"].numpy()
    generated = ref["frame0_generated_face"].float()  # the original's output crop [3, 560, 420]
    generated512 = torch.nn.functional.interpolate(
        generated[None], size=(RESOLUTION, RESOLUTION), mode="bicubic", align_corners=False
    )[0].clamp(-1, 1)
    crop_w, crop_h = crop_size(RESOLUTION)
    region = mouth_region_crop(RESOLUTION, crop_w, crop_h)

    logger.info("upper face (eyes, brows, forehead) against the source frame")
    logger.info(
        f"{'series':>11} {'size':>6} {'face px':>8} {'mode':>6} {'PSNR dB':>8} {'sharpness':>10} {'source':>8} {'kept':>6}"
    )
    base_face = (
        crop_h / abs(np.linalg.det(FaceAligner(RESOLUTION).estimate(landmarks, smooth=False)[:, :2])) ** 0.5
    )
    for series in ("whole frame", "close-up"):
        for name, (width, height) in SIZES.items():
            if series == "whole frame":
                scale = width / base.shape[1]
                frame, points = (
                    cv2.resize(base, (width, height), interpolation=cv2.INTER_LANCZOS4),
                    landmarks * scale,
                )
            else:
                frame, points = close_up(base, landmarks, CLOSE_UP_FACE[name] / base_face, width, height)
            for mode, face_px, psnr_db, sharp, source_sharp in measure(frame, points, generated512, region):
                logger.info(
                    f"{series:>11} {name:>6} {face_px:8d} {mode:>6} {psnr_db:8.2f} "
                    f"{sharp:10.2f} {source_sharp:8.2f} {sharp / source_sharp:5.0%}"
                )


def close_up(base: np.ndarray, landmarks: np.ndarray, scale: float, width: int, height: int):
    """A ``width`` x ``height`` frame showing ``base`` scaled by ``scale`` around the face (reflected edges)."""
    centre = landmarks.mean(axis=0)
    to_frame = np.array(
        [[scale, 0, width / 2 - scale * centre[0]], [0, scale, height / 2 - scale * centre[1]]]
    )
    frame = cv2.warpAffine(
        base, to_frame, (width, height), flags=cv2.INTER_LANCZOS4, borderMode=cv2.BORDER_REFLECT
    )
    return frame, landmarks * scale + to_frame[:, 2]


def measure(frame: np.ndarray, points: np.ndarray, generated512: torch.Tensor, region: np.ndarray):
    """(mode, face px, PSNR, sharpness, source sharpness) of both blend modes on one frame."""
    crop_w, crop_h = crop_size(RESOLUTION)
    aligner = FaceAligner(RESOLUTION)
    crop, affine = aligner.warp(frame, points)
    output = model_output(aligner.resize_to_model(crop), generated512)
    pasted_crop = resize_generated(output[None], crop_h, crop_w)[0]
    upper = upper_face_mask(affine, frame.shape)
    face_px = int(round(crop_h / abs(np.linalg.det(affine[:, :2].astype(np.float64))) ** 0.5))
    source_sharpness = laplacian_variance(frame, upper)
    rows = []
    for mode in ("face", "mouth"):
        out = paste_back_roi(frame, pasted_crop, affine, region=region if mode == "mouth" else None)
        rows.append(
            (mode, face_px, psnr(out[upper], frame[upper]), laplacian_variance(out, upper), source_sharpness)
        )
    return rows


if __name__ == "__main__":
    main()
