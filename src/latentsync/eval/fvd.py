"""Fréchet Video Distance between two folders of videos, with the I3D features LatentSync reports.

As the original's evaluation: from each video, frames 20..35 (16 frames) are cut to the face box
of MediaPipe's short-range face detector (first face, confidence 0.5), resized to 224x224 with
area interpolation and scaled to [0, 1]; ``i3d_torchscript.pt`` (a TorchScript I3D) called with
``rescale=False, resize=False, return_features=True`` gives one feature vector per clip, and the
FVD is the Fréchet distance between the Gaussians fitted to the real and fake feature sets.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import scipy.linalg
import torch

from latentsync.errors import CheckpointError, InputError
from latentsync.video.reader import iter_frames

logger = logging.getLogger(__name__)

FIRST_FRAME = 20
CLIP_FRAMES = 16
CLIP_SIZE = 224


def load_i3d(path: str | Path, device: str | torch.device = "cpu") -> torch.jit.ScriptModule:
    try:
        with open(path, "rb") as handle:
            model = torch.jit.load(handle, map_location=device)
    except (RuntimeError, OSError) as exc:
        raise CheckpointError(
            f"cannot load I3D TorchScript model {path}: {str(exc).splitlines()[0]}"
        ) from exc
    return model.eval()


@torch.no_grad()
def i3d_features(model, clips: torch.Tensor, batch_size: int = 8) -> np.ndarray:
    """[B, F, H, W, 3] float clips in [0, 1] -> [B, D] float64 features (before the classifier)."""
    device = next(iter(model.parameters()), torch.empty(0)).device
    features = []
    for start in range(0, len(clips), batch_size):
        batch = clips[start : start + batch_size].permute(0, 4, 1, 2, 3).contiguous().to(device)
        features.append(model(batch, rescale=False, resize=False, return_features=True).cpu())
    return torch.cat(features).double().numpy()


def gaussian_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return features.mean(axis=0), np.cov(features, rowvar=False)


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 sqrt(S_a S_b)); needs two or more clips per set."""
    for name, feats in (("first", features_a), ("second", features_b)):
        if feats.ndim != 2 or len(feats) < 2:
            raise InputError(f"FVD needs at least 2 clips per set; the {name} set has {len(feats)}")
    mu_a, sigma_a = gaussian_stats(features_a)
    mu_b, sigma_b = gaussian_stats(features_b)
    root, _ = scipy.linalg.sqrtm(sigma_a @ sigma_b, disp=False)
    distance = np.square(mu_a - mu_b).sum() + np.trace(sigma_a + sigma_b - 2 * root)
    return float(np.real(distance))


class MediaPipeFaceBox:
    """Box of the first face MediaPipe's short-range face detector finds (what the original crops)."""

    def __init__(self, min_confidence: float = 0.5):
        import mediapipe as mp

        self._detector = mp.solutions.face_detection.FaceDetection(
            model_selection=0, min_detection_confidence=min_confidence
        )

    def __call__(self, frame_rgb: np.ndarray) -> tuple[int, int, int, int] | None:
        height, width = frame_rgb.shape[:2]
        result = self._detector.process(np.ascontiguousarray(frame_rgb))
        if not result.detections:
            return None
        box = result.detections[0].location_data.relative_bounding_box
        x1, y1 = max(0, int(box.xmin * width)), max(0, int(box.ymin * height))
        x2 = min(width, x1 + int(box.width * width))
        y2 = min(height, y1 + int(box.height * height))
        return x1, y1, x2, y2

    def close(self) -> None:
        self._detector.close()


def face_clip(path: str | Path, face_box: MediaPipeFaceBox) -> np.ndarray:
    """[16, 224, 224, 3] uint8 face crops of frames 20..35 of a video."""

    crops = []
    for index, frame in enumerate(iter_frames(path)):
        if index < FIRST_FRAME:
            continue
        if index >= FIRST_FRAME + CLIP_FRAMES:
            break
        box = face_box(frame)
        if box is None:
            raise InputError(f"no face in frame {index} of {path} (FVD crops frames 20-35 to the face)")
        x1, y1, x2, y2 = box
        crops.append(cv2.resize(frame[y1:y2, x1:x2], (CLIP_SIZE, CLIP_SIZE), interpolation=cv2.INTER_AREA))
    if len(crops) != CLIP_FRAMES:
        raise InputError(
            f"{path} has {FIRST_FRAME + len(crops)} frames; FVD needs {FIRST_FRAME + CLIP_FRAMES}"
        )
    return np.stack(crops)


def video_files(folder_or_file: str | Path) -> list[Path]:
    """The ``.mp4`` files of a folder (sorted), or the file itself."""
    path = Path(folder_or_file)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise InputError(f"no such video file or folder: {path}")
    files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".mp4")
    if not files:
        raise InputError(f"no .mp4 videos in {path}")
    return files


def folder_features(model, videos: Sequence[Path], face_box: MediaPipeFaceBox) -> np.ndarray:
    clips = np.stack([face_clip(video, face_box) for video in videos])
    return i3d_features(model, torch.from_numpy(clips).float() / 255.0)


def fvd_between_folders(model, real: str | Path, fake: str | Path) -> dict:
    """FVD of the fake videos against the real ones, with the clip counts."""
    face_box = MediaPipeFaceBox()
    try:
        real_videos, fake_videos = video_files(real), video_files(fake)
        real_features = folder_features(model, real_videos, face_box)
        fake_features = folder_features(model, fake_videos, face_box)
    finally:
        face_box.close()
    value = frechet_distance(fake_features, real_features)
    logger.info("FVD %.3f (%d real, %d fake clips)", value, len(real_videos), len(fake_videos))
    return {
        "fvd": value,
        "real_videos": [str(v) for v in real_videos],
        "fake_videos": [str(v) for v in fake_videos],
    }
