"""Small face clips with 16 kHz audio cut from the shared demo video, as training data for tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from latentsync.video.clip_file import write_clip
from tests.helpers import media


def demo_faces(resolution: int, max_frames: int = 250) -> tuple[np.ndarray, np.ndarray]:
    """Face crops [T, R, R, 3] uint8 and int16 audio of media/demo1."""
    faces = media.demo_frames(max_frames, size=(resolution, resolution), box=media.FACE_BOX)
    return np.stack(faces), media.demo_video_audio("demo1")


def write_face_clips(
    out_dir: Path, resolution: int = 64, clip_frames: int = 60, count: int = 3
) -> list[Path]:
    """``count`` consecutive clips of ``clip_frames`` frames each from demo1."""
    faces, audio = demo_faces(resolution, clip_frames * count)
    paths = []
    for i in range(count):
        span = slice(i * clip_frames, (i + 1) * clip_frames)
        sound = audio[
            i * clip_frames * media.SAMPLES_PER_FRAME : (i + 1) * clip_frames * media.SAMPLES_PER_FRAME
        ]
        paths.append(write_clip(Path(out_dir) / f"clip{i}.mp4", faces[span], sound))
    return paths
