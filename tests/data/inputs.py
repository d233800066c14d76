"""Small raw-video folders for the data-pipeline tests, cut from the demo media.

Demo frames are cropped around the speaker's face (540x960) and halved to 270x480 so
that encoding stays fast while faces stay large enough to align.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from latentsync.video.clip_file import ClipWriter
from tests.helpers import media

SIZE = (270, 480)  # the speaker's 540x960 box, halved


def demo_frames(name: str, start: int, count: int) -> list[np.ndarray]:
    return media.demo_frames(count, size=SIZE, start=start, name=name, box=media.SPEAKER_BOX[name])


def write(path: Path, frames: list[np.ndarray], audio: np.ndarray | None, fps: int = 25) -> None:
    writer = ClipWriter(path, audio, fps=fps)
    for frame in frames:
        writer.write_frame(frame)
    writer.commit()


def no_face_frames(count: int) -> list[np.ndarray]:
    """A moving colour gradient: plenty of texture, no face."""
    ys, xs = np.mgrid[0 : SIZE[1], 0 : SIZE[0]]
    return [
        np.stack([(xs + 3 * i) % 256, (ys + 2 * i) % 256, ((xs + ys) // 2) % 256], -1).astype(np.uint8)
        for i in range(count)
    ]


def build_raw_folder(raw: Path) -> dict[str, str]:
    """Writes the inputs; returns each file name with the fate the pipeline should give it."""
    raw.mkdir(parents=True, exist_ok=True)
    demo1 = demo_frames("demo1", 0, 250)
    demo2 = demo_frames("demo2", 0, 150)
    a1 = media.demo_video_audio("demo1", 0, 250)
    a2 = media.demo_video_audio("demo2", 0, 150)
    write(raw / "good.mp4", demo1[:150], a1[: 150 * 640])
    # 5.6 s of demo2 then a hard cut to 5.2 s of demo1: two shots, one segment each.
    cut_frames = demo2[:140] + demo1[120:250]
    cut_audio = np.concatenate([a2[: 140 * 640], a1[120 * 640 : 250 * 640]])
    write(raw / "cut.mp4", cut_frames, cut_audio)
    # 30 fps: frame k shows demo time k/30 (5.6 s, 168 frames), audio untouched.
    write(
        raw / "fps30.mp4", [demo2[int(k * 25 / 30)] for k in range(140 * 30 // 25)], a2[: 140 * 640], fps=30
    )
    write(raw / "short.mp4", demo2[:75], a2[: 75 * 640])
    write(raw / "noaudio.mp4", demo1[:25], None)
    tone = (3000 * np.sin(np.arange(130 * 640) * 2 * np.pi * 220 / 16000)).astype(np.int16)
    write(raw / "noface.mp4", no_face_frames(130), tone)
    data = (raw / "good.mp4").read_bytes()
    (raw / "truncated.mp4").write_bytes(data[: len(data) // 2])
    (raw / "empty.mp4").write_bytes(b"")
    return {
        "good.mp4": "kept",
        "cut.mp4": "kept",
        "fps30.mp4": "kept",
        "short.mp4": "segment",
        "noaudio.mp4": "broken",
        "noface.mp4": "affine",
        "truncated.mp4": "broken",
        "empty.mp4": "broken",
    }


def copy_raw_folder(template: Path, dst: Path) -> Path:
    shutil.copytree(template, dst)
    return dst
