"""The 80-band log-mel spectrogram that StableSyncNet is trained on (Wav2Lip-style hparams)."""

from __future__ import annotations

from functools import lru_cache

import librosa
import numpy as np
from omegaconf import DictConfig
from scipy import signal

from latentsync.config import audio_config
from latentsync.errors import InputError


@lru_cache(maxsize=4)
def _mel_basis(sample_rate: int, n_fft: int, num_mels: int, fmin: float, fmax: float) -> np.ndarray:
    if fmax > sample_rate // 2:
        raise ValueError(f"fmax {fmax} is above the Nyquist frequency of {sample_rate} Hz audio")
    return librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=num_mels, fmin=fmin, fmax=fmax)


def _hop_size(hp: DictConfig) -> int:
    if hp.hop_size is not None:
        return int(hp.hop_size)
    return int(hp.frame_shift_ms / 1000 * hp.sample_rate)


def _normalize(db: np.ndarray, hp: DictConfig) -> np.ndarray:
    """Map [min_level_db, 0] dB to [-max, max] (symmetric) or [0, max]."""
    unit = (db - hp.min_level_db) / (-hp.min_level_db)
    scaled = (
        (2 * hp.max_abs_value) * unit - hp.max_abs_value if hp.symmetric_mels else hp.max_abs_value * unit
    )
    if hp.allow_clipping_in_normalization:
        low = -hp.max_abs_value if hp.symmetric_mels else 0.0
        return np.clip(scaled, low, hp.max_abs_value)
    return scaled


def syncnet_melspectrogram(waveform_16k: np.ndarray, hparams: DictConfig | None = None) -> np.ndarray:
    """Mono float waveform at 16 kHz -> normalised float32 log-mel [80, T] (T = len // hop + 1).

    Steps: pre-emphasis, |STFT| (centred, Hann), mel projection, dB relative to ``ref_level_db``
    with a ``min_level_db`` floor, then scaling to [-4, 4]. The waveform is not peak-rescaled
    (the ``rescale`` hparam is not applied by the original's mel function).
    """
    hp = hparams if hparams is not None else audio_config().audio
    wav = np.asarray(waveform_16k)
    if wav.ndim != 1 or wav.size == 0:
        raise InputError(f"expected a non-empty mono waveform, got shape {wav.shape}")
    if hp.preemphasize:
        wav = signal.lfilter([1, -hp.preemphasis], [1], wav)
    spectrum = np.abs(
        librosa.stft(y=wav, n_fft=int(hp.n_fft), hop_length=_hop_size(hp), win_length=int(hp.win_size))
    )
    mel = (
        _mel_basis(int(hp.sample_rate), int(hp.n_fft), int(hp.num_mels), float(hp.fmin), float(hp.fmax))
        @ spectrum
    )
    floor = np.exp(hp.min_level_db / 20 * np.log(10))
    db = 20 * np.log10(np.maximum(floor, mel)) - hp.ref_level_db
    out = _normalize(db, hp) if hp.signal_normalization else db
    return out.astype(np.float32)
