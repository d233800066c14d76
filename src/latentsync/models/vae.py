"""The SD VAE (``stabilityai/sd-vae-ft-mse``) as diffusers' own AutoencoderKL, not a reimplementation.

The one place that loads it and that turns pixels into the UNet's latents and back, so training and
inference cannot disagree on the scaling, the shift or which posterior draw they use.
"""

from __future__ import annotations

from pathlib import Path

import torch
from diffusers import AutoencoderKL

from latentsync.errors import CheckpointError

# Latents are scaled by this (and shifted by nothing) before the UNet, as in SD 1.5 / LatentSync.
SCALING_FACTOR = 0.18215
SHIFT_FACTOR = 0.0

SD_VAE_CONFIG = {
    "in_channels": 3,
    "out_channels": 3,
    "latent_channels": 4,
    "down_block_types": ["DownEncoderBlock2D"] * 4,
    "up_block_types": ["UpDecoderBlock2D"] * 4,
    "block_out_channels": [128, 256, 512, 512],
    "layers_per_block": 2,
    "norm_num_groups": 32,
    "sample_size": 512,
    "scaling_factor": SCALING_FACTOR,
}


def sd_vae() -> AutoencoderKL:
    """An untrained VAE with the published sd-vae-ft-mse layout (weights via ``from_pretrained``)."""
    return AutoencoderKL(**SD_VAE_CONFIG)


def load_vae(path_or_repo: Path | str, device: torch.device | str, dtype: torch.dtype) -> AutoencoderKL:
    """Frozen weights in eval mode on ``device``; a folder that is no VAE is one CheckpointError."""
    try:
        vae = AutoencoderKL.from_pretrained(str(path_or_repo), torch_dtype=dtype)
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"cannot load the VAE from {path_or_repo}: {str(exc).splitlines()[0]}") from exc
    return vae.to(device).eval().requires_grad_(False)


def encode_pixels(
    vae: AutoencoderKL, pixels: torch.Tensor, generator: torch.Generator | None = None
) -> torch.Tensor:
    """[N, 3, H, W] pixels in [-1, 1] -> [N, 4, H/8, W/8] UNet latents (shifted, then scaled).

    Without ``generator`` the posterior mean (inference: deterministic, as the original's golden
    outputs); with one a posterior sample, mean + std * eps, with eps drawn on the CPU from that
    generator (training: never the global RNG, so resumes are exact).
    """
    posterior = vae.encode(pixels.to(vae.dtype)).latent_dist
    latents = posterior.mean
    if generator is not None:
        eps = torch.randn(latents.shape, generator=generator).to(latents)
        latents = latents + posterior.std * eps
    return (latents - SHIFT_FACTOR) * SCALING_FACTOR


def decode_latents(vae: AutoencoderKL, latents: torch.Tensor) -> torch.Tensor:
    """[N, 4, h, w] UNet latents -> [N, 3, 8h, 8w] pixels in about [-1, 1], in the VAE's dtype."""
    return vae.decode(latents.to(vae.dtype) / SCALING_FACTOR + SHIFT_FACTOR).sample
