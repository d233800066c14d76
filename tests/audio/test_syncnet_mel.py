"""SyncNet mel spectrogram against the original's output for demo1."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.io import wavfile

from latentsync.audio.syncnet_mel import syncnet_melspectrogram
from latentsync.errors import InputError
from tests.helpers import golden


@pytest.fixture(scope="module")
def demo1_waveform() -> np.ndarray:
    rate, samples = wavfile.read(golden.MEDIA / "demo1_audio.wav")
    assert rate == 16000 and samples.dtype == np.int16
    return samples.astype(np.float32) / 32768.0


def test_mel_matches_original(demo1_waveform):
    mel = syncnet_melspectrogram(demo1_waveform)
    ref = golden.reference("syncnet_mel")["demo1_mel"]
    assert mel.dtype == np.float32 and mel.shape == (80, 769)
    diff = golden.assert_close_ref(torch.from_numpy(mel), ref)
    assert diff < 1e-5
    assert mel.min() >= -4.0 and mel.max() <= 4.0


def test_mel_is_not_peak_rescaled(demo1_waveform):
    # The original mel function ignores the ``rescale`` hparam; rescaling would change the output.
    louder = demo1_waveform / np.abs(demo1_waveform).max() * 0.9
    ref = golden.reference("syncnet_mel")["demo1_mel"].numpy()
    assert np.abs(syncnet_melspectrogram(louder) - ref).max() > 0.01


def test_frame_count_follows_hop():
    assert syncnet_melspectrogram(np.zeros(3200, dtype=np.float32)).shape == (80, 17)
    silent = syncnet_melspectrogram(np.zeros(800, dtype=np.float32))
    assert np.all(silent == -4.0)


def test_rejects_non_mono_input():
    with pytest.raises(InputError, match="mono waveform"):
        syncnet_melspectrogram(np.zeros((2, 1600), dtype=np.float32))
    with pytest.raises(InputError, match="mono waveform"):
        syncnet_melspectrogram(np.zeros(0, dtype=np.float32))
