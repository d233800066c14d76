"""MFCCs exactly as ``python_speech_features.mfcc`` computes them with its defaults.

SyncNet v2 (``syncnet_v2.model``) was trained on these features: 25 ms Hamming-less (rectangular)
windows every 10 ms, 0.97 pre-emphasis, 512-point power spectrum, 26 triangular mel filters
over 0-8 kHz, log, orthonormal DCT-II keeping 13 coefficients, sinusoidal lifter 22, and the
first coefficient replaced by the log frame energy. Input is raw int16-valued samples.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.fft import dct

from latentsync.audio.io import SAMPLE_RATE

EPS = np.finfo(float).eps


def _round_half_up(value: float) -> int:
    return int(math.floor(value + 0.5))


def _frames(signal: np.ndarray, length: int, step: int) -> np.ndarray:
    count = 1 if len(signal) <= length else 1 + math.ceil((len(signal) - length) / step)
    padded = np.concatenate([signal, np.zeros((count - 1) * step + length - len(signal))])
    index = np.arange(length)[None, :] + step * np.arange(count)[:, None]
    return padded[index]


def hz_to_mel(hz):
    return 2595 * np.log10(1 + hz / 700.0)


def mel_to_hz(mel):
    return 700 * (10 ** (mel / 2595.0) - 1)


def mel_filterbank(
    filters: int, nfft: int, sample_rate: int, low: float = 0.0, high: float | None = None
) -> np.ndarray:
    """[filters, nfft//2+1] triangles on FFT bins: filter j rises from edge j to edge j+1 and
    falls to edge j+2, the edges being equally spaced mels rounded down to bins."""
    high = high or sample_rate / 2
    mels = np.linspace(hz_to_mel(low), hz_to_mel(high), filters + 2)
    edges = np.floor((nfft + 1) * mel_to_hz(mels) / sample_rate).astype(int)
    left, centre, right = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    bins = np.arange(nfft // 2 + 1)[None, :]
    rising = (bins - left) / np.maximum(centre - left, 1)
    falling = (right - bins) / np.maximum(right - centre, 1)
    bank = np.where((bins >= left) & (bins < centre), rising, 0.0)
    return np.where((bins >= centre) & (bins < right), falling, bank)


def mfcc(
    signal: np.ndarray,
    sample_rate: int = SAMPLE_RATE,
    numcep: int = 13,
    nfilt: int = 26,
    nfft: int = 512,
    preemph: float = 0.97,
    ceplifter: int = 22,
) -> np.ndarray:
    """[frames, numcep] MFCCs (frames every 10 ms)."""
    signal = np.asarray(signal, np.float64).reshape(-1)
    emphasized = np.append(signal[0], signal[1:] - preemph * signal[:-1])
    frames = _frames(emphasized, _round_half_up(0.025 * sample_rate), _round_half_up(0.01 * sample_rate))
    power = np.square(np.abs(np.fft.rfft(frames, nfft))) / nfft
    energy = power.sum(axis=1)
    energy = np.where(energy == 0, EPS, energy)
    feats = power @ mel_filterbank(nfilt, nfft, sample_rate).T
    feats = np.log(np.where(feats == 0, EPS, feats))
    feats = dct(feats, type=2, axis=1, norm="ortho")[:, :numcep]
    lift = 1 + (ceplifter / 2.0) * np.sin(np.pi * np.arange(numcep) / ceplifter)
    feats = feats * lift
    feats[:, 0] = np.log(energy)
    return feats
