"""Generated inputs for the robustness matrix: odd containers, pixel formats, audio layouts, faces.

Everything is made with PyAV from a few frames of the demo clip, small enough that a whole matrix
of lip-sync runs stays fast.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from tests.helpers import media

SPEECH_START = 2.0  # seconds into demo1_audio.wav where the speech used by the tests begins
CHANNELS_FOR_LAYOUT = {"mono": 1, "stereo": 2, "5.1": 6}


def encode_video(
    path: Path,
    frames: Sequence[np.ndarray],
    fps: Fraction | int = 25,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    input_format: str = "rgb24",
    rotation_ccw: int = 0,
    pts_ms: Sequence[int] | None = None,
    options: dict[str, str] | None = None,
    container_options: dict[str, str] | None = None,
) -> Path:
    """Frames -> video file; ``pts_ms`` gives variable timestamps, ``rotation_ccw`` a display matrix."""
    with av.open(str(path), "w", options=container_options or {}) as out:
        stream = out.add_stream(codec, rate=Fraction(fps))
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = pix_fmt
        stream.options = {"preset": "ultrafast", "crf": "12"} if codec.startswith("libx26") else {}
        if codec == "libx265":
            stream.options["x265-params"] = "log-level=error"
        stream.options.update(options or {})
        if pts_ms is not None:
            stream.time_base = stream.codec_context.time_base = Fraction(1, 1000)
        if rotation_ccw:
            stream.set_display_rotation(rotation_ccw)
        for i, frame in enumerate(frames):
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format=input_format)
            if pts_ms is not None:
                vf.pts, vf.time_base = pts_ms[i], Fraction(1, 1000)
            out.mux(stream.encode(vf))
        out.mux(stream.encode(None))
    return path


def encode_audio(
    path: Path,
    samples: np.ndarray,
    sample_rate: int = 16000,
    layout: str = "mono",
    codec: str = "pcm_s16le",
) -> Path:
    """Mono 16 kHz float speech -> any rate, layout and codec (resampled by linear interpolation)."""
    if sample_rate != 16000:
        t_new = np.arange(int(len(samples) * sample_rate / 16000)) / sample_rate
        samples = np.interp(t_new, np.arange(len(samples)) / 16000, samples)
    planes = np.repeat(samples[None].astype(np.float32), CHANNELS_FOR_LAYOUT[layout], axis=0)
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=sample_rate, layout=layout)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(planes), format="fltp", layout=layout)
        frame.sample_rate = sample_rate
        frame.pts = 0
        resampler = av.AudioResampler(format=stream.codec_context.codec.audio_formats[0].name, layout=layout)
        for converted in [*resampler.resample(frame), *resampler.resample(None)]:
            out.mux(stream.encode(converted))
        out.mux(stream.encode(None))
    return path


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
    others = media.demo_frames(len(frames), size=(200, 356), name="demo2_video.mp4")
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
