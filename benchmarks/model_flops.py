"""FLOPs of one denoising chunk: UNet (full and DeepCache-cached step) and SD VAE, counted on the meta device.

Run from the repo root: ``python -m benchmarks.model_flops``. Nothing is computed or allocated (meta
tensors), so this takes seconds. Counts are torch.utils.flop_counter's (2 FLOPs per multiply-add;
convolutions, matmuls and attention; norms and activations are not counted, a few % at most).
Numbers feed docs/cost_model.md.
"""

from __future__ import annotations

import argparse
import logging

import torch
from torch.utils.flop_counter import FlopCounterMode

from latentsync.config import load_config
from latentsync.models.deepcache import DeepCache
from latentsync.models.unet import UNet3DConditionModel
from latentsync.models.vae import sd_vae

logger = logging.getLogger("benchmarks.model_flops")

FRAMES = 16


def count(fn) -> int:
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


def unet_flops(config_name: str, batch: int = 2) -> tuple[int, int, int]:
    """(latent size, full-step FLOPs, cached-step FLOPs) for a [batch, 13, 16, h, w] call."""
    config = load_config(config_name, "unet")
    latent = int(config.data.resolution) // 8
    with torch.device("meta"):
        unet = UNet3DConditionModel(**config.model).eval()
        sample = torch.empty(batch, unet.config.in_channels, FRAMES, latent, latent)
        audio = torch.empty(batch * FRAMES, 50, unet.config.cross_attention_dim)
    with torch.no_grad():
        full = count(lambda: unet(sample, 500, audio))
        with DeepCache(unet, cache_interval=3):
            unet(sample, 500, audio)  # the full step that fills the cache
            cached = count(lambda: unet(sample, 480, audio))
    return latent, full, cached


def vae_flops(resolution: int, images: int = 1) -> tuple[int, int]:
    """(encode, decode) FLOPs for ``images`` images at ``resolution``."""
    with torch.device("meta"):
        vae = sd_vae().eval()
        pixels = torch.empty(images, 3, resolution, resolution)
        latents = torch.empty(images, 4, resolution // 8, resolution // 8)
    with torch.no_grad():
        return count(lambda: vae.encode(pixels)), count(lambda: vae.decode(latents))


def main() -> None:
    argparse.ArgumentParser(description=__doc__).parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print(f"UNet, one call on a CFG batch of 2 x {FRAMES} frames (GFLOPs)")
    print(
        f"{'config':<11} {'latent':>6} {'full step':>10} {'cached':>8} {'cached/full':>11} {'full/frame':>10}"
    )
    for name in ("stage2", "stage2_512"):
        latent, full, cached = unet_flops(name)
        print(
            f"{name:<11} {latent:>6} {full / 1e9:10.0f} {cached / 1e9:8.0f} {cached / full:11.3f} "
            f"{full / FRAMES / 1e9:10.1f}"
        )
    print("SD VAE per image (GFLOPs)")
    print(f"{'resolution':<11} {'encode':>8} {'decode':>8}")
    for resolution in (256, 512):
        enc, dec = vae_flops(resolution)
        print(f"{resolution:<11} {enc / 1e9:8.1f} {dec / 1e9:8.1f}")


if __name__ == "__main__":
    main()
