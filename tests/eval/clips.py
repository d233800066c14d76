"""Short test clips cut from the demo media (face-centred 270x480 crops, 25 fps, 16 kHz audio)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from latentsync.video.clip_file import write_clip
from latentsync.video.reader import iter_frames
from latentsync.video.writer import VideoWriter
from tests.data.inputs import CROP_ORIGIN, SIZE, demo_audio
from tests.helpers.golden import MEDIA


def demo_frames(name: str, start: int, count: int) -> list[np.ndarray]:
    """Face-centred 540x960 crops halved to 270x480 (the video reader closes cleanly mid-stream)."""
    x, y = CROP_ORIGIN[name]
    frames = []
    for index, frame in enumerate(iter_frames(MEDIA / f"{name}_video.mp4")):
        if index >= start + count:
            break
        if index >= start:
            frames.append(cv2.resize(frame[y : y + 960, x : x + 540], SIZE, interpolation=cv2.INTER_AREA))
    return frames


def demo_clip(path: Path, name: str = "demo1", start: int = 0, count: int = 30, flip: bool = False) -> Path:
    frames = demo_frames(name, start, count)
    if flip:
        frames = [np.ascontiguousarray(f[:, ::-1]) for f in frames]
    return write_clip(path, frames, demo_audio(name, start, count))


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
    return write_clip(path, frames, demo_audio("demo1", 0, count))
