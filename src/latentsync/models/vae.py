"""The SD VAE (``stabilityai/sd-vae-ft-mse``) as diffusers' own AutoencoderKL, not a reimplementation."""

from __future__ import annotations

from diffusers import AutoencoderKL

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
