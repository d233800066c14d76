"""Generated inputs for the robustness matrix: odd containers, pixel formats, audio layouts, faces.

Everything is made with PyAV from a few frames of the demo clip, small enough that a whole matrix
of lip-sync runs stays fast.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from tests.helpers import media

SPEECH_START = 2.0  # seconds into demo1_audio.wav where the speech used by the tests begins


# The matrix encodes many clips: x264/x265 at their fastest preset.
encode_video = functools.partial(media.write_video, preset="ultrafast")


def encode_audio(
    path: Path,
    samples: np.ndarray,
    sample_rate: int = 16000,
    layout: str = "mono",
    codec: str = "pcm_s16le",
) -> Path:
    """Mono 16 kHz float speech -> any rate, layout and codec (resampled by linear interpolation)."""
    return media.write_audio(path, media.resampled(samples, sample_rate), sample_rate, codec, layout)


def speech(seconds: float) -> np.ndarray:
    return media.demo_audio(seconds, start=SPEECH_START)


def demo(count: int, size: tuple[int, int] = (288, 512), start: int = 0) -> list[np.ndarray]:
    """Demo frames (decoded from the 1080p clip once per size, then copied)."""
    return [f.copy() for f in _demo_cached(count, size, start)]


@functools.lru_cache(maxsize=8)
def _demo_cached(count: int, size: tuple[int, int], start: int) -> tuple[np.ndarray, ...]:
    return tuple(media.demo_frames(count, size=size, start=start))


def shifted(frame: np.ndarray, dx: int, fill: int = 90) -> np.ndarray:
    """The frame moved ``dx`` pixels right (left if negative); uncovered pixels are flat grey."""
    out = np.full_like(frame, fill)
    width = frame.shape[1]
    if abs(dx) >= width:
        return out
    if dx >= 0:
        out[:, dx:] = frame[:, : width - dx]
    else:
        out[:, : width + dx] = frame[:, -dx:]
    return out


TWO_FACES_SPLIT = 288  # x where the second person's picture starts in ``two_faces``


def two_faces(frames: Sequence[np.ndarray]) -> list[np.ndarray]:
    """demo1 (rows 64..447 of the 288x512 frames) on the left, a smaller demo2 on the right."""
    others = media.demo_frames(len(frames), size=(200, 356), name="demo2")
    result = []
    for frame, other in zip(frames, others):
        canvas = np.full((384, TWO_FACES_SPLIT + 216, 3), 90, np.uint8)
        canvas[:, :TWO_FACES_SPLIT] = frame[64:448]
        canvas[14:370, TWO_FACES_SPLIT + 8 : TWO_FACES_SPLIT + 208] = other
        result.append(canvas)
    return result


def tiny_face(frames: Sequence[np.ndarray], scale: float = 0.12) -> list[np.ndarray]:
    """The frame shrunk to ``scale`` in the middle of a grey canvas of the original size."""
    result = []
    for frame in frames:
        h, w = frame.shape[:2]
        small = cv2.resize(frame, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA)
        canvas = np.full_like(frame, 90)
        y, x = (h - small.shape[0]) // 2, (w - small.shape[1]) // 2
        canvas[y : y + small.shape[0], x : x + small.shape[1]] = small
        result.append(canvas)
    return result


def truncated_copy(source: Path, path: Path, keep: float) -> Path:
    """The first ``keep`` fraction of ``source``'s bytes."""
    data = source.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path
