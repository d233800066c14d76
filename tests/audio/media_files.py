"""Small audio files written with PyAV, in the formats users drive lip-sync with."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np


def tone(seconds: float, rate: int, channels: int, hz: float = 440.0) -> np.ndarray:
    """A sine of ``hz`` on every channel (the right one at half level), shape [channels, samples]."""
    t = np.arange(round(seconds * rate)) / rate
    wave = 0.5 * np.sin(2 * np.pi * hz * t).astype(np.float32)
    return np.stack([wave * (1.0 if c == 0 else 0.5) for c in range(channels)])


def write_audio(path: Path, samples: np.ndarray, rate: int, codec: str) -> Path:
    """Encode float samples [channels, n] in [-1, 1] with ``codec`` into ``path`` (container from the suffix)."""
    channels = samples.shape[0]
    layout = "mono" if channels == 1 else "stereo"
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=rate, layout=layout)
        step = 4096
        for start in range(0, samples.shape[1], step):
            block = np.ascontiguousarray(samples[:, start : start + step], dtype=np.float32)
            frame = av.AudioFrame.from_ndarray(block, format="fltp", layout=layout)
            frame.sample_rate = rate
            frame.pts = start
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def write_wav_int16(path: Path, samples: np.ndarray, rate: int = 16000) -> Path:
    """A mono 16-bit wav of float samples (rounded to int16 as the golden wavs hold)."""
    pcm = np.clip(np.round(np.asarray(samples) * 32768.0), -32768, 32767).astype(np.int16).reshape(1, -1)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate = rate
        frame.pts = 0
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path
