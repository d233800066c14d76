"""Decoding the driving audio from any media file with PyAV (no ffmpeg subprocess).

Samples come out the way the original's ``ffmpeg -ac 1 -ar 16000 -f s16le`` pipe produced
them: downmixed and resampled to signed 16-bit, then divided by 32768. A 16 kHz int16 wav
therefore decodes to exactly ``int16 / 32768``, which the golden Whisper features assume.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from latentsync.errors import InputError
from latentsync.video.container import check_media_path

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16000  # Hz: Whisper's and SyncNet's input rate, the rate every model sees
MODEL_FPS = 25  # video frames per second the audio features were trained against
SAMPLES_PER_FRAME = SAMPLE_RATE // MODEL_FPS  # 640
_INT16_SCALE = 32768.0


@dataclass(frozen=True)
class AudioInfo:
    """What the first audio stream of a media file holds, before any resampling."""

    sample_rate: int
    channels: int
    layout: str
    codec: str
    duration: float
    container_format: str


@contextmanager
def _open_audio_stream(path: str | Path):
    """The opened container and its first audio stream, with user-facing errors."""
    path = check_media_path(path, "audio")
    try:
        container = av.open(str(path))
    except PermissionError as exc:
        raise InputError(f"cannot read audio file (permission denied): {path}") from exc
    except (av.error.FFmpegError, OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"not a readable media file: {path} ({exc})") from exc
    try:
        if not container.streams.audio:
            raise InputError(f"{path} has no audio stream")
        yield container, container.streams.audio[0]
    finally:
        container.close()


def _layout_name(name: str, channels: int) -> str:
    """wav headers often leave the layout unspecified ("2 channels"): name the usual one."""
    if name.endswith(" channels"):
        return {1: "mono", 2: "stereo"}.get(channels, name)
    return name


def probe_audio(path: str | Path) -> AudioInfo:
    """Stream parameters of the first audio stream; the duration is decoded if no header gives it."""
    with _open_audio_stream(path) as (container, stream):
        codec = stream.codec_context
        duration = None
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / av.time_base
        info = dict(
            sample_rate=int(codec.sample_rate or stream.rate or 0),
            channels=int(codec.channels),
            layout=_layout_name(codec.layout.name, int(codec.channels)),
            codec=codec.name,
            container_format=container.format.name,
        )
    if duration is None:
        logger.info("%s: no duration in the headers, counting decoded samples", path)
        rate = info["sample_rate"] or SAMPLE_RATE
        duration = sum(len(b) for b in iter_audio_blocks(path, sample_rate=rate)) / rate
    return AudioInfo(duration=duration, **info)


def iter_audio_blocks(
    path: str | Path, sample_rate: int = SAMPLE_RATE, block_seconds: float = 30.0
) -> Iterator[np.ndarray]:
    """Mono float32 blocks of ``block_seconds`` (the last one shorter), decoded as they are needed.

    Only one block plus one decoded frame is held at a time, so hours of audio stream in
    constant memory.
    """
    block_len = max(1, round(block_seconds * sample_rate))
    with _open_audio_stream(path) as (container, stream):
        resampler = av.AudioResampler(format="s16", layout="mono", rate=sample_rate)
        pending: list[np.ndarray] = []
        pending_len = 0

        def converted(frame):
            for out in resampler.resample(frame):
                yield out.to_ndarray().reshape(-1)

        def decoded_then_flushed():
            try:
                for frame in container.decode(stream):
                    yield from converted(frame)
                yield from converted(None)
            except (av.error.FFmpegError, ValueError) as exc:
                raise InputError(f"cannot decode the audio of {path}: {exc}") from exc

        for samples in decoded_then_flushed():
            pending.append(samples)
            pending_len += len(samples)
            while pending_len >= block_len:
                joined = np.concatenate(pending)
                yield joined[:block_len].astype(np.float32) / _INT16_SCALE
                rest = joined[block_len:]
                pending, pending_len = ([rest] if len(rest) else []), len(rest)
        if pending_len:
            yield np.concatenate(pending).astype(np.float32) / _INT16_SCALE


def load_audio(path: str | Path, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """The whole first audio stream as mono float32 at ``sample_rate``."""
    blocks = list(iter_audio_blocks(path, sample_rate=sample_rate, block_seconds=60.0))
    if not blocks:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate(blocks)


def read_pcm16(path: str | Path, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """The first audio stream as mono int16 at ``sample_rate``, all of it (empty if there is none).

    For short training clips; the driving audio of inference streams through ``iter_audio_blocks``.
    """
    chunks: list[np.ndarray] = []
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return np.zeros(0, np.int16)
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="s16", layout="mono", rate=sample_rate)
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1))
    return np.concatenate(chunks).astype(np.int16) if chunks else np.zeros(0, np.int16)


def shift_audio(
    audio: np.ndarray, offset_frames: int, fps: int = MODEL_FPS, sample_rate: int = SAMPLE_RATE
) -> np.ndarray:
    """Delay (positive) or advance (negative) audio by whole video frames, keeping its length.

    Same effect as the seed's ``ffmpeg -itsoffset offset/fps`` on the audio input; the gap is silence.
    """
    shift = round(offset_frames * sample_rate / fps)
    out = np.zeros_like(audio)
    if shift >= 0:
        out[shift:] = audio[: len(audio) - shift] if shift < len(audio) else audio[:0]
    else:
        out[: len(audio) + shift] = audio[-shift:]
    return out


def write_wav(path: str | Path, samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> None:
    """Mono float samples in [-1, 1) -> 16-bit PCM WAV (the inverse of ``load_audio`` for int16 sources)."""
    import wave

    pcm = np.clip(np.rint(np.asarray(samples, dtype=np.float64) * _INT16_SCALE), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm.tobytes())
