"""One UNet training step's losses, apart from the trainer so they can be checked against the original.

loss = recon_loss_weight * MSE(predicted noise, noise)
     + sync_loss_weight * SyncNet cosine loss of the pixels decoded from the one-step x0 estimate
     + perceptual_loss_weight * LPIPS on the lower half of those pixels vs. the ground truth
     + trepa_loss_weight * TREPA (VideoMAE-v2 feature distance) of the 16-frame clips

Every random draw of a step comes from one generator in the original's order: the three VAE
posterior samples (ground truth, masked, reference), the shared then the per-frame noise, the
timesteps. ``tests/fixtures/training`` pins the terms, draws and gradients to the original's.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from einops import rearrange
from omegaconf import DictConfig

from latentsync.models.vae import decode_latents, encode_pixels
from latentsync.train.common import setting
from latentsync.train.losses import (
    cosine_loss,
    lower_half,
    mixed_noise,
    one_step_x0,
    syncnet_visual_input,
)

LOSS_TERMS = ("recon", "sync", "lpips", "trepa")


def loss_weights(config: DictConfig) -> dict[str, float]:
    """The ``run.*_loss_weight`` of each term (defaults: reconstruction only)."""
    return {
        "recon": float(setting(config, "run.recon_loss_weight", 1.0)),
        "sync": float(setting(config, "run.sync_loss_weight", 0.0)),
        "lpips": float(setting(config, "run.perceptual_loss_weight", 0.0)),
        "trepa": float(setting(config, "run.trepa_loss_weight", 0.0)),
    }


@dataclass
class SyncTarget:
    """The frozen SyncNet of the sync loss and the two facts of its config the loss needs."""

    model: torch.nn.Module
    resolution: int
    lower_half: bool


@dataclass
class StepOutput:
    """Unweighted loss terms plus the step's draws (for checks and logging)."""

    terms: dict[str, torch.Tensor]
    noise: torch.Tensor
    timesteps: torch.Tensor
    pred_noise: torch.Tensor
    weights: dict[str, float] = field(default_factory=dict)

    @property
    def loss(self) -> torch.Tensor:
        return sum(self.weights[k] * v for k, v in self.terms.items())


@dataclass
class UNetObjective:
    vae: torch.nn.Module
    scheduler: object  # diffusers DDIMScheduler (alphas_cumprod, add_noise, config)
    num_frames: int
    weights: dict[str, float]
    pixel_supervise: bool
    mixed_noise_alpha: float | None  # None: one noise frame for all frames
    audio_layer: bool = True
    sync: SyncTarget | None = None
    lpips: torch.nn.Module | None = None
    trepa: torch.nn.Module | None = None

    @classmethod
    def from_config(
        cls, config: DictConfig, vae, scheduler, sync=None, lpips=None, trepa=None
    ) -> UNetObjective:
        """The objective a UNet config asks for, with the (frozen) models the trainer loaded."""
        mixed = bool(setting(config, "run.use_mixed_noise", False))
        return cls(
            vae=vae,
            scheduler=scheduler,
            num_frames=int(config.data.num_frames),
            weights=loss_weights(config),
            pixel_supervise=bool(setting(config, "run.pixel_space_supervise", False)),
            mixed_noise_alpha=float(setting(config, "run.mixed_noise_alpha", 1.0)) if mixed else None,
            audio_layer=bool(config.model.get("add_audio_layer", True)),
            sync=sync,
            lpips=lpips,
            trepa=trepa,
        )

    def encode(self, pixels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """[B, F, 3, H, W] -> scaled latents [B, 4, F, h, w] (a posterior sample, as the original)."""
        latents = encode_pixels(self.vae, rearrange(pixels, "b f c h w -> (b f) c h w"), generator)
        return rearrange(latents, "(b f) c h w -> b c f h w", f=self.num_frames)

    def step(
        self, unet, batch: dict, generator: torch.Generator, autocast=contextlib.nullcontext
    ) -> StepOutput:
        device, n = self.vae.device, self.num_frames
        gt = batch["gt_pixel_values"].to(device)
        gt_latents = self.encode(gt, generator)
        masked_latents = self.encode(batch["masked_pixel_values"].to(device), generator)
        ref_latents = self.encode(batch["ref_pixel_values"].to(device), generator)
        masks = F.interpolate(
            rearrange(batch["masks"].to(device), "b f c h w -> (b f) c h w"), size=gt_latents.shape[-1]
        )
        masks = rearrange(masks, "(b f) c h w -> b c f h w", f=n)
        noise = mixed_noise(gt_latents, self.mixed_noise_alpha, generator).to(device)
        steps = self.scheduler.config.num_train_timesteps
        timesteps = torch.randint(0, steps, (gt_latents.shape[0],), generator=generator).to(device)
        noisy = self.scheduler.add_noise(gt_latents, noise, timesteps)
        unet_input = torch.cat([noisy, masks, masked_latents, ref_latents], dim=1)
        audio = batch["audio_embeds"].to(device) if self.audio_layer else None
        with autocast():
            pred_noise = unet(unet_input, timesteps, encoder_hidden_states=audio).sample
        terms: dict[str, torch.Tensor] = {}
        if self.weights.get("recon", 0):
            terms["recon"] = F.mse_loss(pred_noise.float(), noise.float())
        pred_latents = one_step_x0(
            self.scheduler.alphas_cumprod,
            pred_noise.float(),
            timesteps,
            noisy,
            bool(self.scheduler.config.clip_sample),
        )
        pred_pixels = self._decode(pred_latents) if self._needs_pixels else None
        gt_flat = rearrange(gt, "b f c h w -> (b f) c h w")
        if self.lpips is not None and self.pixel_supervise:
            terms["lpips"] = self.lpips(lower_half(pred_pixels), lower_half(gt_flat)).mean()
        if self.trepa is not None and self.pixel_supervise:
            as_video = lambda x: rearrange(x, "(b f) c h w -> b c f h w", f=n)  # noqa: E731
            terms["trepa"] = self.trepa(as_video(pred_pixels), as_video(gt_flat))
        if self.sync is not None:
            terms["sync"] = self._sync_loss(pred_pixels, pred_latents, batch["mel"].to(device))
        return StepOutput(terms, noise, timesteps, pred_noise, self.weights)

    @property
    def _needs_pixels(self) -> bool:
        return self.pixel_supervise and any(m is not None for m in (self.sync, self.lpips, self.trepa))

    def _decode(self, pred_latents: torch.Tensor) -> torch.Tensor:
        return decode_latents(self.vae, rearrange(pred_latents, "b c f h w -> (b f) c h w"))

    def _sync_loss(self, pred_pixels, pred_latents, mel) -> torch.Tensor:
        sync, n = self.sync, self.num_frames
        if self.pixel_supervise:
            if pred_pixels.shape[-1] != sync.resolution:
                pred_pixels = F.interpolate(
                    pred_pixels, size=(sync.resolution, sync.resolution), mode="bicubic"
                )
            frames = rearrange(pred_pixels, "(b f) c h w -> b f c h w", f=n)
        else:
            frames = rearrange(pred_latents, "b c f h w -> b f c h w")
        vision, audio = sync.model(syncnet_visual_input(frames, sync.lower_half), mel)
        return cosine_loss(vision, audio, torch.ones(vision.shape[0], device=vision.device)).mean()
