"""Offset/confidence search of the SyncNet evaluation on embeddings with a planted alignment."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from latentsync.eval.lse import TrackSync
from latentsync.eval.sync_confidence import distance_curve, offset_and_confidence


def planted(shift: int, frames: int = 80, dim: int = 64, noise: float = 0.05):
    """Audio embeddings equal to the lip embeddings ``shift`` frames later (plus noise)."""
    generator = torch.Generator().manual_seed(shift + 100)
    lip = torch.randn(frames, dim, generator=generator)
    aud = torch.randn(frames, dim, generator=generator)
    for i in range(frames):
        if 0 <= i + shift < frames:
            aud[i + shift] = lip[i] + noise * torch.randn(dim, generator=generator)
    return lip, aud


@pytest.mark.parametrize("shift", [-7, -2, 0, 3, 11])
def test_offset_search_finds_planted_shift(shift):
    lip, aud = planted(shift)
    result = offset_and_confidence(lip, aud)
    assert result.offset == -shift  # audio leading by `shift` frames -> delay it by -shift
    curve = distance_curve(lip, aud)
    assert curve.shape == (31,)
    assert result.min_dist == pytest.approx(float(curve.min()))
    assert result.confidence == pytest.approx(float(curve.median() - curve.min()))
    assert result.confidence > 5  # unrelated pairs sit near sqrt(2 * 64) ~ 11
    track = TrackSync(0, 0, result.offset, result.confidence, result.min_dist, curve.tolist())
    assert track.offsets()[int(np.argmin(track.curve))] == result.offset
    assert track.offsets()[0] == 15 and track.offsets()[-1] == -15


def test_no_alignment_gives_low_confidence():
    generator = torch.Generator().manual_seed(0)
    lip, aud = torch.randn(80, 64, generator=generator), torch.randn(80, 64, generator=generator)
    assert offset_and_confidence(lip, aud).confidence < 1.0
