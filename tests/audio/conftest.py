"""Whisper stand-ins (golden deterministic weights, loaded through the real loader) and demo audio."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from latentsync.audio.io import load_audio
from latentsync.audio.whisper import WhisperFeatures
from tests.helpers.golden import MEDIA


@pytest.fixture(scope="session")
def whisper_checkpoint(tiny_models) -> Path:
    return tiny_models / "whisper_tiny.pt"


@pytest.fixture(scope="session")
def reference_whisper(whisper_checkpoint) -> WhisperFeatures:
    return WhisperFeatures(whisper_checkpoint, windows="reference")


@pytest.fixture(scope="session")
def overlap_whisper(whisper_checkpoint) -> WhisperFeatures:
    return WhisperFeatures(whisper_checkpoint)


@pytest.fixture(scope="session")
def demo1() -> np.ndarray:
    return load_audio(MEDIA / "demo1_audio.wav")


@pytest.fixture(scope="session")
def demo2() -> np.ndarray:
    return load_audio(MEDIA / "demo2_audio.wav")


@pytest.fixture(scope="session")
def long_waveform(demo1, demo2) -> np.ndarray:
    """The golden "long" input: demo1 + demo2 + demo1, 39.04 s (crosses the 30 s edge)."""
    return np.concatenate([demo1, demo2, demo1])
