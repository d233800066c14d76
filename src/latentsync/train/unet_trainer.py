"""``latentsync train unet``: the lip-sync UNet with the original's objectives.

loss = recon_loss_weight * MSE(predicted noise, noise)
     + sync_loss_weight * SyncNet cosine loss of the pixels decoded from the one-step x0 estimate
     + perceptual_loss_weight * LPIPS on the lower half of those pixels vs. the ground truth
     + trepa_loss_weight * TREPA (VideoMAE-v2 feature distance) of the 16-frame clips
The pixel terms need ``run.pixel_space_supervise``; a zero weight skips its model entirely.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
import torch.nn.functional as F
from einops import rearrange
from omegaconf import DictConfig

from latentsync.config import load_config, to_plain
from latentsync.errors import ConfigError, MissingWeightsError
from latentsync.models.stable_syncnet import load_stable_syncnet
from latentsync.models.unet_io import build_unet, load_unet
from latentsync.pipeline.generate import VAE_SCALING_FACTOR, make_scheduler
from latentsync.train.audio_cache import ClipAudio
from latentsync.train.checkpoints import load_checkpoint
from latentsync.train.clips import list_clips
from latentsync.train.common import aux_weight, get, model_weight, output_dir, save_config, step_loader
from latentsync.train.loop import (
    StepLoop,
    TrainResult,
    make_accelerator,
    make_lr_scheduler,
    prepare_for_training,
)
from latentsync.train.losses import cosine_loss, lower_half, mixed_noise, one_step_x0, syncnet_visual_input
from latentsync.train.unet_dataset import UNetDataset

logger = logging.getLogger(__name__)


def select_trainable(unet: torch.nn.Module, patterns: list[str] | None) -> list[torch.nn.Parameter]:
    """Parameters whose name contains any of ``patterns`` (all parameters when there are none)."""
    if not patterns:
        unet.requires_grad_(True)
        return list(unet.parameters())
    unet.requires_grad_(False)
    chosen = []
    for name, param in unet.named_parameters():
        if any(p in name for p in patterns):
            param.requires_grad_(True)
            chosen.append(param)
    if not chosen:
        raise ConfigError(f"run.trainable_modules {list(patterns)} match no UNet parameter")
    return chosen


class UNetTrainer:
    def __init__(self, config: DictConfig, config_path: str | Path | None = None):
        self.config = config
        self.config_path = config_path
        self.out = output_dir(config)
        self.run = config.run
        self.accumulation = int(get(config, "data.gradient_accumulation_steps", 1))
        self.accelerator = make_accelerator(
            config,
            self.out,
            self.accumulation,
            find_unused=bool(get(config, "run.find_unused_parameters", False)),
        )
        from accelerate.utils import set_seed

        self.seed = int(get(config, "run.seed", 1247))
        set_seed(self.seed + self.accelerator.process_index)
        self.device = self.accelerator.device
        self.num_frames = int(config.data.num_frames)
        self.resolution = int(config.data.resolution)
        self.pixel_supervise = bool(get(config, "run.pixel_space_supervise", False))
        self.weights = {
            "recon": float(get(config, "run.recon_loss_weight", 1.0)),
            "sync": float(get(config, "run.sync_loss_weight", 0.0)),
            "lpips": float(get(config, "run.perceptual_loss_weight", 0.0)),
            "trepa": float(get(config, "run.trepa_loss_weight", 0.0)),
        }
        self.audio_layer = bool(config.model.get("add_audio_layer", True))
        self.use_syncnet = (
            self.audio_layer and bool(get(config, "run.use_syncnet", False)) and self.weights["sync"] != 0
        )
        self.scheduler = make_scheduler()
        self._load_frozen_models()

    # ---- frozen models -------------------------------------------------------------------
    def _load_frozen_models(self) -> None:
        from latentsync.pipeline.models import load_vae

        vae_path = model_weight(self.config, "ckpt.vae_path", "vae", "UNet training", "")
        self.vae = load_vae(vae_path, self.device, torch.float32)
        if self.pixel_supervise:
            self.vae.enable_gradient_checkpointing()
        self.whisper_path = (
            model_weight(self.config, "ckpt.whisper_path", "whisper", "the audio layers", "")
            if self.audio_layer
            else None
        )
        self.syncnet, self.syncnet_config = (None, None)
        if self.use_syncnet:
            self.syncnet, self.syncnet_config = self._load_syncnet()
        pixel = self.pixel_supervise
        self.lpips = self._load_lpips() if pixel and self.weights["lpips"] != 0 else None
        self.trepa = self._load_trepa() if pixel and self.weights["trepa"] != 0 else None

    def _load_syncnet(self):
        name = get(self.config, "data.syncnet_config_path", "syncnet_16_pixel_attn")
        syncnet_config = load_config(str(name), "syncnet")
        path = get(self.config, "ckpt.syncnet_ckpt_path") or get(syncnet_config, "ckpt.inference_ckpt_path")
        if not path:
            from latentsync import weights

            path = weights.find_local(weights.training_files()[0])
        if not path or not Path(str(path)).is_file():
            raise MissingWeightsError(
                [("stable_syncnet.pt", "ckpt.syncnet_ckpt_path")],
                f"the sync loss needs SyncNet weights (stable_syncnet.pt for '{name}'): set ckpt.syncnet_ckpt_path "
                "or `latentsync download`; or set run.use_syncnet=false (or run.sync_loss_weight=0) to train without it",
            )
        syncnet = load_stable_syncnet(syncnet_config, path, self.device).requires_grad_(False)
        for encoder in (syncnet.audio_encoder, syncnet.visual_encoder):
            encoder.gradient_checkpointing = True
        return syncnet, syncnet_config

    def _load_lpips(self):
        from latentsync.train.lpips import load_lpips

        vgg = aux_weight(
            self.config,
            "ckpt.vgg16_path",
            "vgg16",
            "; or set run.perceptual_loss_weight=0 to train without it",
        )
        return load_lpips(vgg, get(self.config, "ckpt.lpips_heads_path")).to(self.device)

    def _load_trepa(self):
        from latentsync.train.trepa import VIDEOMAE_G, ViTConfig, load_trepa

        path = aux_weight(
            self.config,
            "ckpt.trepa_ckpt_path",
            "videomae",
            "; or set run.trepa_loss_weight=0 to train without it",
        )
        overrides = get(self.config, "run.trepa_model")
        cfg = ViTConfig(**to_plain(overrides)) if overrides else VIDEOMAE_G
        return load_trepa(path, cfg).to(self.device)

    # ---- model ---------------------------------------------------------------------------
    def _build_unet(self):
        resume = get(self.config, "ckpt.resume_ckpt_path")
        if not resume:
            return build_unet(self.config), 0, None
        state, step, sidecar = load_checkpoint(resume)
        unet = load_unet(self.config, state)
        return unet, step, sidecar

    # ---- one step ------------------------------------------------------------------------
    def _encode(self, pixels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """[B, F, 3, H, W] -> scaled latents [B, 4, F, h, w] (posterior sample, as the original).

        The sample draws from the step's own generator, never the global RNG, so resumes are exact.
        """
        flat = rearrange(pixels, "b f c h w -> (b f) c h w")
        with torch.no_grad():
            posterior = self.vae.encode(flat).latent_dist
            eps = torch.randn(posterior.mean.shape, generator=generator).to(posterior.mean)
            latents = (posterior.mean + posterior.std * eps) * VAE_SCALING_FACTOR
        return rearrange(latents, "(b f) c h w -> b c f h w", f=self.num_frames)

    def losses(self, unet, batch: dict, micro: int) -> tuple[torch.Tensor, dict[str, float]]:
        acc, device, n = self.accelerator, self.device, self.num_frames
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + micro * 7919 + acc.process_index)
        gt = batch["gt_pixel_values"].to(device)
        gt_latents = self._encode(gt, generator)
        masked_latents = self._encode(batch["masked_pixel_values"].to(device), generator)
        ref_latents = self._encode(batch["ref_pixel_values"].to(device), generator)
        masks = F.interpolate(
            rearrange(batch["masks"].to(device), "b f c h w -> (b f) c h w"), size=gt_latents.shape[-1]
        )
        masks = rearrange(masks, "(b f) c h w -> b c f h w", f=n)
        alpha = (
            float(get(self.config, "run.mixed_noise_alpha", 1.0))
            if get(self.config, "run.use_mixed_noise", False)
            else None
        )
        noise = mixed_noise(tuple(gt_latents.shape), alpha, generator).to(device)
        steps = self.scheduler.config.num_train_timesteps
        timesteps = torch.randint(0, steps, (gt_latents.shape[0],), generator=generator).to(device)
        noisy = self.scheduler.add_noise(gt_latents, noise, timesteps)
        unet_input = torch.cat([noisy, masks, masked_latents, ref_latents], dim=1)
        audio = batch["audio_embeds"].to(device) if self.audio_layer else None
        with acc.autocast():
            pred_noise = unet(unet_input, timesteps, encoder_hidden_states=audio).sample
        parts: dict[str, torch.Tensor] = {}
        if self.weights["recon"]:
            parts["recon"] = F.mse_loss(pred_noise.float(), noise.float())
        need_pixels = self.pixel_supervise and (
            self.use_syncnet or self.lpips is not None or self.trepa is not None
        )
        pred_latents = one_step_x0(
            self.scheduler.alphas_cumprod,
            pred_noise.float(),
            timesteps,
            noisy,
            bool(self.scheduler.config.clip_sample),
        )
        pred_pixels = None
        if need_pixels:
            pred_pixels = self.vae.decode(
                rearrange(pred_latents, "b c f h w -> (b f) c h w") / VAE_SCALING_FACTOR
            ).sample
        gt_flat = rearrange(gt, "b f c h w -> (b f) c h w")
        if self.lpips is not None:
            parts["lpips"] = self.lpips(lower_half(pred_pixels), lower_half(gt_flat)).mean()
        if self.trepa is not None:
            as_video = lambda x: rearrange(x, "(b f) c h w -> b c f h w", f=n)  # noqa: E731
            parts["trepa"] = self.trepa(as_video(pred_pixels), as_video(gt_flat))
        if self.use_syncnet:
            parts["sync"] = self._sync_loss(pred_pixels, pred_latents, batch["mel"].to(device))
        loss = sum(self.weights[k] * v for k, v in parts.items())
        return loss, {f"loss_{k}": float(v.detach()) for k, v in parts.items()}

    def _sync_loss(self, pred_pixels, pred_latents, mel) -> torch.Tensor:
        sync_cfg = self.syncnet_config
        n = self.num_frames
        if self.pixel_supervise:
            size = int(sync_cfg.data.resolution)
            if pred_pixels.shape[-1] != size:
                pred_pixels = F.interpolate(pred_pixels, size=(size, size), mode="bicubic")
            frames = rearrange(pred_pixels, "(b f) c h w -> b f c h w", f=n)
        else:
            frames = rearrange(pred_latents, "b c f h w -> b f c h w")
        vision, audio = self.syncnet(syncnet_visual_input(frames, bool(sync_cfg.data.lower_half)), mel)
        return cosine_loss(vision, audio, torch.ones(vision.shape[0], device=vision.device)).mean()

    # ---- loop ----------------------------------------------------------------------------
    def train(self) -> TrainResult:
        config, acc = self.config, self.accelerator
        unet, resume_step, sidecar = self._build_unet()
        unet.train()
        params = select_trainable(
            unet,
            list(get(config, "run.trainable_modules", []) or [])
            if config.model.get("use_motion_module")
            else [],
        )
        if get(config, "run.enable_gradient_checkpointing", False):
            unet.enable_gradient_checkpointing()
        lr = float(config.optimizer.lr) * (
            acc.num_processes if get(config, "optimizer.scale_lr", False) else 1
        )
        optimizer = torch.optim.AdamW(params, lr=lr)
        max_steps = int(get(config, "run.max_train_steps", 1000))
        scheduler = make_lr_scheduler(config, optimizer, max_steps)
        logger.info(
            "trainable parameters: %.3f M in %d tensors", sum(p.numel() for p in params) / 1e6, len(params)
        )
        loop = StepLoop(
            acc,
            unet,
            optimizer,
            scheduler,
            self.out,
            max_steps,
            save_every=int(get(config, "ckpt.save_ckpt_steps", 10000)),
            max_grad_norm=float(get(config, "optimizer.max_grad_norm", 1.0)),
            accumulation=self.accumulation,
            name="unet",
        )
        loop.restore(resume_step, sidecar)
        if acc.is_main_process:
            save_config(config, self.out, "unet_config.yaml")
            acc.init_trackers("unet")
        dataset = UNetDataset(
            list_clips(get(config, "data.train_fileslist"), get(config, "data.train_data_dir")),
            resolution=self.resolution,
            num_frames=self.num_frames,
            fps=float(get(config, "data.video_fps", 25)),
            audio=ClipAudio(
                get(config, "data.audio_mel_cache_dir") or self.out / "cache" / "mel",
                get(config, "data.audio_embeds_cache_dir") or self.out / "cache" / "whisper",
                self.whisper_path,
            ),
            with_audio_embeds=self.audio_layer,
            with_mel=self.use_syncnet,
            seed=self.seed,
            cache_clips=int(get(config, "data.cache_clips", 8)),
            length=int(get(config, "data.num_train_samples", 10**9)),
        )
        loader = step_loader(
            dataset,
            int(config.data.batch_size),
            acc,
            loop.global_step * self.accumulation,
            int(get(config, "data.num_workers", 0)),
        )
        loop.model, loop.optimizer = prepare_for_training(acc, unet, optimizer, loader)
        from latentsync.train.validation import UNetValidator

        self.dataset = dataset
        validator = UNetValidator(self, loop)
        self.last_model = loop.model
        return loop.run(iter(loader), lambda batch, micro: self.losses(loop.model, batch, micro), validator)
