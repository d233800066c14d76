"""The SD VAE layout loads into diffusers' AutoencoderKL with strict=True; latents use 0.18215."""

from __future__ import annotations

import torch
from diffusers import AutoencoderKL

from latentsync.models import vae as vae_module
from latentsync.pipeline import generate
from tests.helpers import golden


def test_sd_vae_ft_mse_layout_loads_strictly():
    model = vae_module.sd_vae()
    params = golden.fill("vae_sd_ft_mse")
    schema = golden.schema("vae_sd_ft_mse")
    assert set(model.state_dict()) == set(schema)
    for key, info in schema.items():
        assert tuple(model.state_dict()[key].shape) == tuple(info["shape"]), key
    model.load_state_dict(params, strict=True)


def test_tiny_vae_roundtrip_and_scaling(tiny_models):
    vae = AutoencoderKL.from_pretrained(tiny_models / "vae")
    assert set(vae.state_dict()) == set(golden.schema("vae_tiny"))
    assert generate.VAE_SCALING_FACTOR == vae_module.SCALING_FACTOR == 0.18215
    assert generate.VAE_SHIFT_FACTOR == vae_module.SHIFT_FACTOR == 0.0
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        mean = vae.encode(x).latent_dist.mean
    assert mean.shape == (1, 4, 8, 8)
