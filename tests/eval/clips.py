"""Short test clips cut from the demo media (face-centred 270x480 crops, 25 fps, 16 kHz audio)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from latentsync.video.clip_file import write_clip
from latentsync.video.writer import VideoWriter
from tests.data.inputs import demo_frames
from tests.helpers import media


def demo_clip(path: Path, name: str = "demo1", start: int = 0, count: int = 30, flip: bool = False) -> Path:
    frames = demo_frames(name, start, count)
    if flip:
        frames = [np.ascontiguousarray(f[:, ::-1]) for f in frames]
    return write_clip(path, frames, media.demo_video_audio(name, start, count))


def lossless_video(path: Path, frames: list[np.ndarray]) -> Path:
    """H.264 qp 0 in 4:4:4: pixels equal in two files stay equal after decoding."""
    height, width = frames[0].shape[:2]
    with VideoWriter(path, width, height, 25, crf=0, pix_fmt="yuv444p") as writer:
        for frame in frames:
            writer.write(frame)
    return path


def face_clip_256(path: Path, count: int = 40) -> Path:
    """An aligned-clip stand-in: 256x256 face crops with their audio, as the data pipeline writes."""
    frames = [
        cv2.resize(f[60:330, :], (256, 256), interpolation=cv2.INTER_AREA)
        for f in demo_frames("demo1", 0, count)
    ]
    return write_clip(path, frames, media.demo_video_audio("demo1", 0, count))
