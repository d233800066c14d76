"""Small synthetic clips (written by tests.helpers.media), each frame identifiable by its content."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

from tests.helpers import media


def numbered_frame(index: int, width: int, height: int) -> np.ndarray:
    """A smooth picture that differs per frame, so frame order errors are visible."""
    y, x = np.mgrid[0:height, 0:width]
    r = (x * 255 // max(1, width - 1) + index * 7) % 256
    g = y * 255 // max(1, height - 1)
    b = np.full_like(x, (index * 23) % 256)
    return np.stack([r, g, b], axis=-1).astype(np.uint8)


def make_clip(
    path: Path,
    num_frames: int = 10,
    width: int = 64,
    height: int = 48,
    fps: Fraction | int = 25,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    rotation_ccw: int = 0,
    options: dict[str, str] | None = None,
    container_options: dict[str, str] | None = None,
) -> Path:
    """Encode ``numbered_frame`` 0..n-1 at the encoder's default quality."""
    frames = [numbered_frame(i, width, height) for i in range(num_frames)]
    return media.write_video(
        path,
        frames,
        fps,
        codec,
        pix_fmt,
        crf=None,
        options=options,
        rotation_ccw=rotation_ccw,
        container_options=container_options,
    )


def make_wav(path: Path, rate: int, channels: int, seconds: float) -> np.ndarray:
    """A PCM wav with a distinct tone per channel; returns the int16 samples [channels, n]."""
    t = np.arange(round(rate * seconds)) / rate
    tones = [np.sin(2 * np.pi * (220 + 110 * c) * t * (1 + t)) for c in range(channels)]
    samples = (np.stack(tones) * 12000).astype(np.int16)
    media.write_audio(path, samples, rate)
    return samples


def make_vfr_clip(path: Path, gaps_ms: list[int], width: int = 64, height: int = 48) -> Path:
    """A variable-frame-rate clip: frame i+1 comes ``gaps_ms[i]`` after frame i (like phone video)."""
    frames = [numbered_frame(i, width, height) for i in range(len(gaps_ms))]
    pts_ms = [sum(gaps_ms[:i]) for i in range(len(gaps_ms))]
    return media.write_video(path, frames, crf=None, options={"g": "8"}, pts_ms=pts_ms)


def make_cut_faststart_clip(folder: Path, keep: float) -> tuple[Path, Path]:
    """A 30-frame clip with its index first and a keyframe every 5, and a copy cut to ``keep`` of its bytes.

    With the index in front, the frames before the cut are still usable. Returns (whole, cut).
    """
    whole = make_clip(
        folder / "whole.mp4", num_frames=30, container_options={"movflags": "+faststart"}, options={"g": "5"}
    )
    data = whole.read_bytes()
    cut = folder / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * keep)])
    return whole, cut


def moving_texture(count: int, width: int, height: int) -> list[np.ndarray]:
    """Blocky noise drifting right with fresh grain per frame: real motion for the MB-tree."""
    rng = np.random.default_rng(7)
    blocks = rng.integers(0, 256, (height // 8 + 1, width // 8 + 1, 3), dtype=np.uint8)
    base = np.kron(blocks, np.ones((8, 8, 1), np.uint8))[:height, :width]
    frames = []
    for k in range(count):
        grain = rng.integers(0, 6, base.shape, dtype=np.uint8)
        frames.append(np.roll(base, 3 * k, axis=1) // 2 + grain + 64)
    return frames


def decoded_frames(monkeypatch) -> list[int]:
    """Counts frames decoded through SeekableVideo (the one path every reader uses): ``counter[0]``."""
    import latentsync.video.seekable as seekable

    counter = [0]
    original = seekable.decode_video_frames

    def counting(*args, **kwargs):
        for frame in original(*args, **kwargs):
            counter[0] += 1
            yield frame

    monkeypatch.setattr(seekable, "decode_video_frames", counting)
    return counter
