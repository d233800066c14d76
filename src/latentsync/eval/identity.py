"""How well a lip-synced video keeps everything but the mouth: PSNR/SSIM outside the mouth region.

The excluded region is the one LatentSync regenerates: its mouth mask (0 = regenerate) in the
512 aligned face, mapped back into the input frame through the same 3-landmark alignment
(MediaPipe Face Mesh on the input video), then dilated by 3% of the face crop width for the
paste-back feathering. Outside it, an ideal lip-sync changes nothing, so identical videos give
PSNR inf / SSIM 1.0, while seams, colour shifts or misplaced frames lower both. PSNR inside the
region is reported too: it drops when the mouth was actually changed.

SSIM (Gaussian 11x11, sigma 1.5, per RGB channel) is averaged over pixels whose whole window
lies outside the region, so the changed mouth cannot leak into the outside score. Frames where
no face is found reuse the last region (none before the first face: the full frame counts).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from latentsync.errors import InputError
from latentsync.face.align import FaceAligner
from latentsync.face.mask import mouth_mask
from latentsync.face.mediapipe_detector import MediaPipeFaceDetector
from latentsync.video.reader import iter_frames

logger = logging.getLogger(__name__)

MASK_RESOLUTION = 512
DILATION_OF_CROP_WIDTH = 0.03
SSIM_RADIUS = 5  # half of the 11x11 window
SSIM_SIGMA = 1.5
PEAK = 255.0


def mouth_region(
    frame_to_crop: np.ndarray, frame_shape: tuple[int, int], resolution: int = MASK_RESOLUTION
) -> np.ndarray:
    """bool [H, W]: frame pixels LatentSync may regenerate (dilated), for a frame->crop affine."""
    aligner = FaceAligner(resolution)
    regenerate = 1.0 - mouth_mask(resolution)
    in_crop = cv2.resize(
        regenerate, (aligner.crop_width, aligner.crop_height), interpolation=cv2.INTER_LINEAR
    )
    height, width = frame_shape
    in_frame = cv2.warpAffine(
        in_crop,
        np.asarray(frame_to_crop, np.float64).reshape(2, 3),
        (width, height),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderValue=0.0,
    )
    region = in_frame > 0.01
    scale = math.sqrt(abs(np.linalg.det(np.asarray(frame_to_crop, np.float64)[:, :2])))
    margin = max(1, round(DILATION_OF_CROP_WIDTH * aligner.crop_width / max(scale, 1e-6)))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * margin + 1, 2 * margin + 1))
    return cv2.dilate(region.astype(np.uint8), kernel).astype(bool)


def ssim_map(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-pixel SSIM [H, W] of two uint8 RGB frames (mean over channels)."""
    c1, c2 = (0.01 * PEAK) ** 2, (0.03 * PEAK) ** 2
    x, y = a.astype(np.float64), b.astype(np.float64)
    blur = lambda img: cv2.GaussianBlur(img, (2 * SSIM_RADIUS + 1,) * 2, SSIM_SIGMA)  # noqa: E731
    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x**2
    var_y = blur(y * y) - mu_y**2
    cov = blur(x * y) - mu_x * mu_y
    ssim = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return ssim.mean(axis=2)


def psnr(squared_error: float, count: int) -> float:
    if count == 0:
        return float("nan")
    mse = squared_error / count
    return float("inf") if mse == 0 else 10 * math.log10(PEAK**2 / mse)


@dataclass
class IdentityScores:
    """Running sums over frames; ``summary()`` turns them into PSNR/SSIM."""

    frames: int = 0
    frames_with_face: int = 0
    outside_squared_error: float = 0.0
    outside_values: int = 0
    inside_squared_error: float = 0.0
    inside_values: int = 0
    ssim_sum: float = 0.0
    ssim_frames: int = 0

    def add(self, a: np.ndarray, b: np.ndarray, region: np.ndarray | None) -> None:
        if a.shape != b.shape:
            raise InputError(f"input and output frames differ in size: {a.shape[1::-1]} vs {b.shape[1::-1]}")
        region = np.zeros(a.shape[:2], bool) if region is None else region
        error = np.square(a.astype(np.float64) - b.astype(np.float64)).sum(axis=2)
        self.frames += 1
        self.outside_squared_error += float(error[~region].sum())
        self.outside_values += int((~region).sum()) * 3
        self.inside_squared_error += float(error[region].sum())
        self.inside_values += int(region.sum()) * 3
        kernel = np.ones((2 * SSIM_RADIUS + 1,) * 2, np.uint8)
        far = ~cv2.dilate(region.astype(np.uint8), kernel).astype(bool)
        far[:SSIM_RADIUS], far[-SSIM_RADIUS:], far[:, :SSIM_RADIUS], far[:, -SSIM_RADIUS:] = (
            False,
            False,
            False,
            False,
        )
        if far.any():
            self.ssim_sum += float(ssim_map(a, b)[far].mean())
            self.ssim_frames += 1

    def summary(self) -> dict:
        return {
            "frames": self.frames,
            "frames_with_face": self.frames_with_face,
            "psnr_outside_mouth": psnr(self.outside_squared_error, self.outside_values),
            "ssim_outside_mouth": self.ssim_sum / self.ssim_frames if self.ssim_frames else float("nan"),
            "psnr_mouth": psnr(self.inside_squared_error, self.inside_values),
        }


def largest_face_region(detector, aligner: FaceAligner, frame: np.ndarray) -> np.ndarray | None:
    faces = detector.detect(frame)
    if not faces:
        return None
    face = max(faces, key=lambda f: f.area)
    return mouth_region(aligner.estimate(face.landmarks3), frame.shape[:2])


def identity_scores(input_video: str | Path, output_video: str | Path, detector=None) -> dict:
    """PSNR/SSIM outside (and PSNR inside) the mouth region, input vs output, frame by frame."""

    owned = detector is None
    if owned:
        detector = MediaPipeFaceDetector(max_num_faces=1, video_mode=True)
    aligner = FaceAligner(MASK_RESOLUTION)
    scores = IdentityScores()
    region = None
    try:
        pairs = zip(iter_frames(input_video), iter_frames(output_video))
        for source, result in pairs:
            found = largest_face_region(detector, aligner, source)
            scores.frames_with_face += found is not None
            region = found if found is not None else region
            scores.add(source, result, region)
    finally:
        if owned:
            detector.close()
    if scores.frames == 0:
        raise InputError(f"no frames to compare in {input_video} and {output_video}")
    if scores.frames_with_face == 0:
        logger.warning("no face found in %s: comparing whole frames", input_video)
    summary = scores.summary()
    summary.update(input=str(input_video), output=str(output_video))
    return summary
