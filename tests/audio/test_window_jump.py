"""The 30 s lip glitch (LatentSync issue #132), measured as the feature jump between consecutive steps.

On the deterministic Whisper tiny, the reference windows jump ~4x the usual step-to-step
change at 30/60/90 s. Switching to overlapping windows with a hard switch moves that jump
to the switch points (the positional embedding changes by 750 positions there); the
default cross-fade keeps every jump within the range of ordinary steps.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from latentsync.audio.whisper import WhisperFeatures

EDGES = [1500, 3000, 4500]


def step_jumps(features: torch.Tensor) -> torch.Tensor:
    """jump[t] = mean |f[t] - f[t-1]| (jump[0] = 0)."""
    return torch.cat([torch.zeros(1), (features[1:] - features[:-1]).abs().flatten(1).mean(dim=1)])


def ordinary(jumps: torch.Tensor, excluded: list[int]) -> torch.Tensor:
    keep = torch.ones(len(jumps), dtype=torch.bool)
    keep[0] = False
    keep[excluded] = False
    return jumps[keep]


@pytest.fixture(scope="module")
def waveform_98s(demo1, demo2) -> np.ndarray:
    return np.concatenate([demo1, demo2] * 3 + [demo1])


def test_reference_windows_jump_at_every_30s_edge(reference_whisper, waveform_98s):
    jumps = step_jumps(reference_whisper.encode(waveform_98s))
    normal = ordinary(jumps, EDGES)
    p99 = torch.quantile(normal, 0.99).item()
    print(f"reference: edges {[round(jumps[t].item(), 4) for t in EDGES]}, other steps p99 {p99:.4f}")
    for t in EDGES:
        assert jumps[t] > 2.5 * p99


def test_hard_switch_between_overlapping_windows_only_moves_the_jump(whisper_checkpoint, waveform_98s):
    model = WhisperFeatures(whisper_checkpoint, windows="overlap", crossfade_steps=0)
    features = model.encode(waveform_98s)
    switches = [w.keep_start for w in model.plan(2 * len(features))[1:]]
    jumps = step_jumps(features)
    normal = ordinary(jumps, switches)
    p99 = torch.quantile(normal, 0.99).item()
    print(f"hard switch: switches {[round(jumps[t].item(), 4) for t in switches]}, p99 {p99:.4f}")
    assert all(jumps[t] <= normal.max() for t in EDGES)
    assert all(jumps[t] > 2.5 * p99 for t in switches)


def test_overlap_crossfade_keeps_every_jump_in_the_normal_range(overlap_whisper, waveform_98s):
    features = overlap_whisper.encode(waveform_98s)
    fades = [
        range(w.emit_start, w.keep_start + w.blend_in) for w in overlap_whisper.plan(2 * len(features))[1:]
    ]
    assert all(len(fade) == 250 for fade in fades)
    jumps = step_jumps(features)
    watched = sorted(set(EDGES) | {t for fade in fades for t in fade})
    normal = ordinary(jumps, watched)
    print(
        f"overlap: edges {[round(jumps[t].item(), 4) for t in EDGES]}, largest in fades "
        f"{[round(jumps[list(f)].max().item(), 4) for f in fades]}, other steps max {normal.max().item():.4f}"
    )
    assert jumps[watched].max() <= normal.max()
