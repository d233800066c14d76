"""The one place tests make media, with PyAV: frames and speech cut from the bundled demo clips
(tests/fixtures/media), and writers for video and audio files in any codec, pixel format or layout."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from tests.helpers.golden import MEDIA

SAMPLE_RATE = 16000  # the demo speech's rate, and what the models hear
SAMPLES_PER_FRAME = 640  # audio samples per 25 fps frame at 16 kHz
SMALL = (288, 512)  # (width, height): the 1080p demo at a sixth, fast to encode and to detect in
# 540x960 around the speaker (x0, y0, x1, y1) in each 1080x1920 demo video: faces large enough to align.
SPEAKER_BOX = {"demo1": (330, 300, 870, 1260), "demo2": (270, 0, 810, 960)}
FACE_BOX = (475, 600, 735, 860)  # square around demo1's face: eyebrows near y 665, chin near y 860
CHANNELS = {"mono": 1, "stereo": 2, "5.1": 6}


def demo_frames(
    count: int,
    size: tuple[int, int] | None = SMALL,
    start: int = 0,
    name: str = "demo1",
    box: tuple[int, int, int, int] | None = None,
) -> list[np.ndarray]:
    """``count`` RGB frames of ``{name}_video.mp4`` from frame ``start``: cut to ``box`` (x0, y0, x1,
    y1), then resized to ``size`` (width, height; None keeps it)."""
    frames = []
    with av.open(str(MEDIA / f"{name}_video.mp4")) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index >= start + count:
                break
            if index < start:
                continue
            picture = frame.to_ndarray(format="rgb24")
            if box is not None:
                x0, y0, x1, y1 = box
                picture = picture[y0:y1, x0:x1]
            if size is not None:
                picture = cv2.resize(picture, size, interpolation=cv2.INTER_AREA)
            frames.append(picture)
    return frames


def demo_audio(seconds: float, start: float = 0.0) -> np.ndarray:
    """Float mono 16 kHz speech from demo1_audio.wav, ``seconds`` long from ``start``."""
    data = _decoded_audio(MEDIA / "demo1_audio.wav")
    data = data.astype(np.float32) / 32768.0 if data.dtype == np.int16 else data.astype(np.float32)
    first = int(start * SAMPLE_RATE)
    return data[first : first + int(seconds * SAMPLE_RATE)]


def demo_video_audio(name: str = "demo1", start_frame: int = 0, frames: int | None = None) -> np.ndarray:
    """The int16 mono 16 kHz sound of ``{name}_video.mp4`` that goes with ``frames`` frames from
    ``start_frame`` (all of it from there when None)."""
    from latentsync.audio.io import read_pcm16

    audio = read_pcm16(MEDIA / f"{name}_video.mp4")
    end = None if frames is None else (start_frame + frames) * SAMPLES_PER_FRAME
    return audio[start_frame * SAMPLES_PER_FRAME : end]


def _decoded_audio(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(audio=0)])


def tone(seconds: float, rate: int, channels: int, hz: float = 440.0) -> np.ndarray:
    """A sine of ``hz`` on every channel (the others at half the first's level), float [channels, n]."""
    t = np.arange(round(seconds * rate)) / rate
    wave = 0.5 * np.sin(2 * np.pi * hz * t).astype(np.float32)
    return np.stack([wave * (1.0 if c == 0 else 0.5) for c in range(channels)])


def resampled(samples: np.ndarray, rate: int, source_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Mono samples at ``source_rate`` linearly interpolated to ``rate`` (float32)."""
    if rate == source_rate:
        return samples
    t_new = np.arange(int(len(samples) * rate / source_rate)) / rate
    return np.interp(t_new, np.arange(len(samples)) / source_rate, samples).astype(np.float32)


def write_audio(
    path: Path,
    samples: np.ndarray,
    rate: int = SAMPLE_RATE,
    codec: str = "pcm_s16le",
    layout: str | None = None,
) -> Path:
    """``samples`` [n] or [channels, n] (float in [-1, 1], or int16 kept exactly) as one audio stream
    (container from the suffix). Mono samples are repeated over ``layout``'s channels; PyAV converts
    them to the codec's sample format (float to int16 rounds, as the golden wavs hold)."""
    planes = np.atleast_2d(samples)
    layout = layout or {1: "mono", 2: "stereo"}[planes.shape[0]]
    if planes.shape[0] == 1:
        planes = np.repeat(planes, CHANNELS[layout], axis=0)
    sample_format = "s16p" if planes.dtype == np.int16 else "fltp"
    planes = np.ascontiguousarray(planes if sample_format == "s16p" else planes.astype(np.float32))
    frame = av.AudioFrame.from_ndarray(planes, format=sample_format, layout=layout)
    frame.sample_rate, frame.pts = rate, 0
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=rate, layout=layout)
        resampler = av.AudioResampler(format=stream.codec_context.codec.audio_formats[0].name, layout=layout)
        for converted in [*resampler.resample(frame), *resampler.resample(None)]:
            out.mux(stream.encode(converted))
        out.mux(stream.encode(None))
    return path


def write_video(
    path: Path,
    frames: Sequence[np.ndarray],
    fps: Fraction | int = 25,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    crf: int | None = 12,
    preset: str | None = None,
    options: dict[str, str] | None = None,
    input_format: str = "rgb24",
    rotation_ccw: int = 0,
    pts_ms: Sequence[int] | None = None,
    container_options: dict[str, str] | None = None,
    audio: np.ndarray | None = None,
) -> Path:
    """``frames`` as a video file, with mono float 16 kHz ``audio`` as AAC when given.

    ``crf``/``preset`` apply to libx264/libx265 (None: the encoder's default); ``options`` go to the
    encoder as they are; ``pts_ms`` gives each frame its own time in milliseconds (variable frame
    rate); ``rotation_ccw`` is written as display-matrix side data.
    """
    with av.open(str(path), "w", options=container_options or {}) as out:
        stream = out.add_stream(codec, rate=Fraction(fps))
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = pix_fmt
        stream.options = _encoder_options(codec, crf, preset, options)
        if pts_ms is not None:
            stream.time_base = stream.codec_context.time_base = Fraction(1, 1000)
        if rotation_ccw:
            stream.set_display_rotation(rotation_ccw)
        audio_stream = None
        if audio is not None:
            audio_stream = out.add_stream("aac", rate=SAMPLE_RATE, layout="mono")
        for i, frame in enumerate(frames):
            picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format=input_format)
            if pts_ms is not None:
                picture.pts, picture.time_base = pts_ms[i], Fraction(1, 1000)
            out.mux(stream.encode(picture))
        out.mux(stream.encode(None))
        if audio_stream is not None:
            sound = av.AudioFrame.from_ndarray(audio.astype(np.float32)[None], format="fltp", layout="mono")
            sound.sample_rate = SAMPLE_RATE
            out.mux(audio_stream.encode(sound))
            out.mux(audio_stream.encode(None))
    return path


def _encoder_options(codec: str, crf: int | None, preset: str | None, options: dict | None) -> dict[str, str]:
    chosen: dict[str, str] = {}
    if codec.startswith("libx26"):
        chosen.update({"preset": preset} if preset else {})
        chosen.update({"crf": str(crf)} if crf is not None else {})
    if codec == "libx265":
        chosen["x265-params"] = "log-level=error"
    chosen.update(options or {})
    return chosen


def read_frames(path: Path) -> list[np.ndarray]:
    """Every frame of ``path`` as RGB, in memory (fine for the small test clips)."""
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)
