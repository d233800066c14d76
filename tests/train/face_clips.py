"""Small face clips with 16 kHz audio cut from the shared demo video, as training data for tests."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from latentsync.audio.io import read_pcm16
from latentsync.video.clip_file import write_clip
from latentsync.video.reader import iter_frames
from tests.helpers.golden import MEDIA

# Square around the face in demo1 (eyebrows near y 665, nose near (606, 722), chin near y 860).
FACE_BOX = (475, 600, 735, 860)  # x0, y0, x1, y1
SAMPLES_PER_FRAME = 640


def demo_faces(resolution: int, max_frames: int = 250) -> tuple[np.ndarray, np.ndarray]:
    """Face crops [T, R, R, 3] uint8 and int16 audio of media/demo1."""
    x0, y0, x1, y1 = FACE_BOX
    faces = []
    for index, frame in enumerate(iter_frames(MEDIA / "demo1_video.mp4")):
        if index >= max_frames:
            break
        crop = frame[y0:y1, x0:x1]
        faces.append(cv2.resize(crop, (resolution, resolution), interpolation=cv2.INTER_AREA))
    audio = read_pcm16(MEDIA / "demo1_video.mp4")
    return np.stack(faces), audio


def write_face_clips(
    out_dir: Path, resolution: int = 64, clip_frames: int = 60, count: int = 3
) -> list[Path]:
    """``count`` consecutive clips of ``clip_frames`` frames each from demo1."""
    faces, audio = demo_faces(resolution, clip_frames * count)
    paths = []
    for i in range(count):
        span = slice(i * clip_frames, (i + 1) * clip_frames)
        sound = audio[i * clip_frames * SAMPLES_PER_FRAME : (i + 1) * clip_frames * SAMPLES_PER_FRAME]
        paths.append(write_clip(Path(out_dir) / f"clip{i}.mp4", faces[span], sound))
    return paths
