"""Small test media made from the bundled demo clips (tests/fixtures/media) with PyAV (fast to decode, encode and detect)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from tests.helpers.golden import MEDIA


def demo_frames(
    count: int, size: tuple[int, int] = (288, 512), start: int = 0, name: str = "demo1_video.mp4"
) -> list[np.ndarray]:
    """``count`` RGB frames of a demo video resized to (width, height)."""
    frames = []
    with av.open(str(MEDIA / name)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i < start:
                continue
            frames.append(cv2.resize(frame.to_ndarray(format="rgb24"), size, interpolation=cv2.INTER_AREA))
            if len(frames) == count:
                break
    return frames


def write_video(
    path: Path,
    frames: list[np.ndarray],
    fps: Fraction | int = 25,
    audio: np.ndarray | None = None,
    sample_rate: int = 16000,
) -> Path:
    """An H.264 mp4 of ``frames`` (and optional mono float audio as AAC)."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=Fraction(fps))
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "12"}
        astream = None
        if audio is not None:
            astream = out.add_stream("aac", rate=sample_rate)
            astream.layout = "mono"
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
        if astream is not None:
            af = av.AudioFrame.from_ndarray(audio.astype(np.float32)[None], format="fltp", layout="mono")
            _mux_whole_audio(out, astream, af, sample_rate)
    return path


def demo_audio(seconds: float, start: float = 0.0) -> np.ndarray:
    """Float mono 16 kHz speech from demo1_audio.wav."""
    with av.open(str(MEDIA / "demo1_audio.wav")) as container:
        data = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(audio=0)])
    data = data.astype(np.float32) / 32768.0 if data.dtype == np.int16 else data.astype(np.float32)
    a = int(start * 16000)
    return data[a : a + int(seconds * 16000)]


def write_audio(
    path: Path, samples: np.ndarray, sample_rate: int = 16000, channels: int = 1, codec: str = "pcm_s16le"
) -> Path:
    """Write mono float samples (resampled naively by repetition-free interpolation) as wav/flac/...."""
    if sample_rate != 16000:
        t_old = np.arange(len(samples)) / 16000
        t_new = np.arange(int(len(samples) * sample_rate / 16000)) / sample_rate
        samples = np.interp(t_new, t_old, samples).astype(np.float32)
    layout = {1: "mono", 2: "stereo"}[channels]
    data = np.repeat(samples[None], channels, axis=0)
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=sample_rate)
        stream.layout = layout
        fmt = "s16p" if codec == "pcm_s16le" else "fltp"
        if codec == "pcm_s16le":
            frame = av.AudioFrame.from_ndarray(
                (data * 32767).astype(np.int16).T.reshape(1, -1), format="s16", layout=layout
            )
        else:
            frame = av.AudioFrame.from_ndarray(data.astype(np.float32), format=fmt, layout=layout)
        _mux_whole_audio(out, stream, frame, sample_rate)
    return path


def _mux_whole_audio(out, stream, frame: av.AudioFrame, sample_rate: int) -> None:
    """All the audio as one frame: encode it, flush the encoder, mux every packet."""
    frame.sample_rate = sample_rate
    for packet in stream.encode(frame):
        out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)


def read_frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)
