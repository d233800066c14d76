"""Stage 5, ``affine``: align the face of every frame to the model's template.

Algorithm: the inference-time alignment, so training and inference crops match. Per frame,
the detector (insightface when its files are found, else mediapipe face mesh) gives three landmarks (eyebrow centres, nose);
``FaceAligner`` fits a similarity transform to the template (with its temporal smoothing,
reset per clip), warps the crop and resizes it to ``resolution`` (256 or 512). A clip is
rejected when any frame has no face (as in the seed) or when its face is too small: the
source region the crop covers is narrower than ``min_face_size`` pixels (median over frames),
i.e. the crop would be mostly upsampled blur. Output: ``resolution``-square clip + audio.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

from latentsync.audio.io import SAMPLES_PER_FRAME, read_pcm16
from latentsync.data.stage import Settings, Stage, StageRecord
from latentsync.data.sync import default_device
from latentsync.face.align import FaceAligner
from latentsync.face.detector import create_detector
from latentsync.video.clip_file import write_clip
from latentsync.video.reader import iter_timed_frames


@cache
def face_detector(name: str, aux_dir: str | None = None, min_score: float | None = None):
    """One detector per worker process (model loading is the slow part)."""

    return create_detector(name, aux_dir=aux_dir, min_score=min_score, device=default_device())


def source_width(affine: np.ndarray, crop_width: int) -> float:
    """Width in source pixels of the region a similarity transform maps onto the crop."""
    scale = float(np.sqrt(abs(np.linalg.det(np.asarray(affine, np.float64)[:, :2]))))
    return crop_width / scale if scale > 0 else 0.0


def align_frames(frames, detector, aligner) -> tuple[list[np.ndarray], list[float], int | None]:
    """Aligned model-size faces, source face widths, and the first frame without a face."""
    faces: list[np.ndarray] = []
    widths: list[float] = []
    for index, frame in enumerate(frames):
        found = detector.detect(frame)
        if not found:
            return faces, widths, index
        crop, affine = aligner.warp(frame, np.asarray(found[0].landmarks3, np.float32))
        widths.append(source_width(affine, crop.shape[1]))
        faces.append(np.asarray(aligner.resize_to_model(crop), np.uint8))
    return faces, widths, None


class AffineAligner(Stage):
    name = "affine"
    output_folder = "affine_transformed"
    uses_gpu = True

    def run(self, src: Path, dst: Path, settings: Settings) -> StageRecord:

        frames = (frame for _, frame in iter_timed_frames(src))
        faces, widths, missing_at = align_frames(
            frames,
            face_detector(settings.detector, settings.aux_dir, settings.face_threshold),
            FaceAligner(settings.resolution),
        )
        if missing_at is not None:
            return StageRecord.rejected("no face", first_frame_without_face=missing_at)
        if not faces:
            return StageRecord.rejected("no frames")
        width = float(np.median(widths))
        if width < settings.min_face_size:
            return StageRecord.rejected("face too small", face_width=round(width, 1))
        audio = read_pcm16(src)[: len(faces) * SAMPLES_PER_FRAME]
        write_clip(dst, faces, audio)
        return StageRecord.kept(
            [dst], face_width=round(width, 1), frames=len(faces), output_durations=[len(faces) / 25]
        )
