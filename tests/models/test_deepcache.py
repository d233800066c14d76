"""DeepCache: same output when nothing is cached, deep blocks really skipped when cached."""

from __future__ import annotations

import pytest
import torch

from latentsync.models.deepcache import DeepCache
from latentsync.models.unet_io import load_unet
from tests.helpers import golden
from tests.helpers.tiny_models import unet_state

TIMESTEPS = [901, 801, 701, 601, 501, 401]


@pytest.fixture(scope="module")
def unet():
    return load_unet(golden.golden_json("unet_tiny.config.json"), unet_state("unet_tiny"))


@pytest.fixture(scope="module")
def inputs() -> tuple[list[torch.Tensor], torch.Tensor]:
    """A drifting CFG batch as in a denoising loop: six steps of [2, 13, 4, 16, 16] + audio."""
    ref = golden.reference("unet_tiny.forward")
    g = torch.Generator().manual_seed(3)
    samples, sample = [], ref["sample"]
    for _ in TIMESTEPS:
        samples.append(sample)
        sample = sample.clone()
        sample[:, :4] += 0.05 * torch.randn(sample[:, :4].shape, generator=g)
    return samples, ref["encoder_hidden_states"]


class _CallCounter:
    def __init__(self, *modules: torch.nn.Module):
        self.calls = 0
        self.handles = [m.register_forward_hook(self._hook) for m in modules]

    def _hook(self, *_):
        self.calls += 1

    def remove(self):
        for h in self.handles:
            h.remove()


def _run(unet, samples, audio) -> list[torch.Tensor]:
    with torch.no_grad():
        return [unet(s, torch.tensor(t), audio).sample for s, t in zip(samples, TIMESTEPS)]


def test_interval_one_equals_the_uncached_model(unet, inputs):
    samples, audio = inputs
    plain = _run(unet, samples, audio)
    with DeepCache(unet, cache_interval=1) as cache:
        cached = _run(unet, samples, audio)
    assert cache.full_steps == len(TIMESTEPS) and cache.cached_steps == 0
    for a, b in zip(cached, plain):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6)


def test_interval_three_skips_the_deep_blocks(unet, inputs):
    samples, audio = inputs
    plain = _run(unet, samples, audio)
    deep = _CallCounter(unet.mid_block, *unet.down_blocks, *unet.up_blocks[:-1])
    last_layer = _CallCounter(unet.up_blocks[-1].resnets[-1])
    try:
        with DeepCache(unet, cache_interval=3, cache_branch_id=0) as cache:
            cached = _run(unet, samples, audio)
    finally:
        deep.remove()
        last_layer.remove()
    # full steps 0 and 3 only: each runs 4 down + mid + 3 up blocks
    assert cache.full_steps == 2 and cache.cached_steps == 4
    assert deep.calls == 2 * (4 + 1 + 3)
    assert last_layer.calls == len(TIMESTEPS)
    assert unet.deep_cache is None
    scale = max(p.abs().max().item() for p in plain)
    for step, (a, b) in enumerate(zip(cached, plain)):
        assert torch.isfinite(a).all()
        diff = (a - b).abs().max().item()
        if step % 3 == 0:
            assert diff <= 1e-6, f"full step {step} differs by {diff}"
        else:
            assert 0 < diff < 0.25 * scale, f"cached step {step}: diff {diff} vs scale {scale}"


def test_cached_step_with_unchanged_input_reproduces_the_full_step(unet, inputs):
    samples, audio = inputs
    with torch.no_grad(), DeepCache(unet, cache_interval=3):
        full = unet(samples[0], 901, audio).sample
        again = unet(samples[0], 901, audio).sample
    torch.testing.assert_close(again, full, rtol=0, atol=1e-6)


def test_reset_and_a_new_chunk_shape_force_a_full_step(unet, inputs):
    samples, audio = inputs
    cache = DeepCache(unet, cache_interval=3).enable()
    try:
        with torch.no_grad():
            unet(samples[0], 901, audio)
            unet(samples[1], 801, audio)
            assert (cache.full_steps, cache.cached_steps) == (1, 1)
            cache.reset()
            unet(samples[2], 901, audio)
            assert cache.full_steps == 2
            # the shorter last chunk of a video: 2 frames instead of 4
            unet(samples[3][:, :, :2], 801, audio.reshape(2, 4, 50, 384)[:, :2])
            assert (cache.full_steps, cache.cached_steps) == (3, 1)
    finally:
        cache.disable()
    assert unet.deep_cache is None


def test_only_branch_zero_is_offered(unet):
    with pytest.raises(ValueError, match="cache_branch_id=0"):
        DeepCache(unet, cache_branch_id=1)
