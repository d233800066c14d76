"""The SD VAE layout loads into diffusers' AutoencoderKL with strict=True; models.vae's encode and decode
are the UNet's latents (scaled by 0.18215, no shift) and give diffusers' own round trip back."""

from __future__ import annotations

import pytest
import torch

from latentsync.errors import CheckpointError
from latentsync.models import vae as vae_module
from tests.helpers import golden


@pytest.fixture(scope="module")
def tiny_vae(tiny_models):
    return vae_module.load_vae(tiny_models / "vae", "cpu", torch.float32)


def test_sd_vae_ft_mse_layout_loads_strictly():
    model = vae_module.sd_vae()
    params = golden.fill("vae_sd_ft_mse")
    schema = golden.schema("vae_sd_ft_mse")
    assert set(model.state_dict()) == set(schema)
    for key, info in schema.items():
        assert tuple(model.state_dict()[key].shape) == tuple(info["shape"]), key
    model.load_state_dict(params, strict=True)


def test_round_trip_through_scaled_latents_equals_diffusers_round_trip(tiny_vae):
    assert set(tiny_vae.state_dict()) == set(golden.schema("vae_tiny"))
    assert (vae_module.SCALING_FACTOR, vae_module.SHIFT_FACTOR) == (0.18215, 0.0)
    x = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(0)) * 2 - 1
    with torch.no_grad():
        latents = vae_module.encode_pixels(tiny_vae, x)
        mean = tiny_vae.encode(x).latent_dist.mean
        pixels = vae_module.decode_latents(tiny_vae, latents)
        unscaled_round_trip = tiny_vae(x, sample_posterior=False).sample
        wrongly_unscaled = tiny_vae.decode(latents).sample
    assert latents.shape == (2, 4, 8, 8)
    assert torch.equal(latents, mean * 0.18215)
    assert pixels.shape == x.shape
    torch.testing.assert_close(pixels, unscaled_round_trip, rtol=1e-5, atol=1e-5)
    assert (pixels - wrongly_unscaled).abs().max() > 1e-2  # the scaling matters to the pixels


def test_posterior_sample_draws_from_the_generator_only(tiny_vae):
    x = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(1)) * 2 - 1
    with torch.no_grad():
        posterior = tiny_vae.encode(x).latent_dist
        first = vae_module.encode_pixels(tiny_vae, x, torch.Generator().manual_seed(7))
        torch.manual_seed(123)  # the global RNG plays no part
        again = vae_module.encode_pixels(tiny_vae, x, torch.Generator().manual_seed(7))
        other = vae_module.encode_pixels(tiny_vae, x, torch.Generator().manual_seed(8))
    assert torch.equal(first, again)
    assert not torch.equal(first, other)
    eps = (first / 0.18215 - posterior.mean) / posterior.std
    assert abs(float(eps.mean())) < 0.2 and 0.8 < float(eps.std()) < 1.2  # a standard normal draw
    expected_eps = torch.randn(posterior.mean.shape, generator=torch.Generator().manual_seed(7))
    torch.testing.assert_close(eps, expected_eps, rtol=1e-3, atol=1e-3)


def test_a_folder_that_is_no_vae_is_one_checkpoint_error(tmp_path):
    with pytest.raises(CheckpointError, match="cannot load the VAE from"):
        vae_module.load_vae(tmp_path, "cpu", torch.float32)
