"""SyncNet v2's audio input: our MFCC against python_speech_features, which the original calls."""

from __future__ import annotations

import numpy as np
import python_speech_features
from scipy.io import wavfile

from latentsync.eval.mfcc import mfcc
from tests.helpers.golden import MEDIA


def test_mfcc_matches_python_speech_features_on_demo_audio():
    rate, audio = wavfile.read(MEDIA / "demo1_audio.wav")  # int16, as the original reads it
    assert rate == 16000 and audio.dtype == np.int16
    expected = python_speech_features.mfcc(audio, rate)
    ours = mfcc(audio, rate)
    assert ours.shape == expected.shape
    assert ours.shape[1] == 13 and abs(ours.shape[0] - len(audio) / 160) <= 2  # 100 Hz
    scale = np.abs(expected).max()
    diff = np.abs(ours - expected).max()
    assert diff <= 1e-9 * scale, f"max abs diff {diff:.3e} (scale {scale:.1f})"


def test_mfcc_silence_uses_the_epsilon_floor_like_the_original():
    silence = np.zeros(16000, np.int16)
    np.testing.assert_allclose(mfcc(silence), python_speech_features.mfcc(silence, 16000), rtol=0, atol=1e-9)
