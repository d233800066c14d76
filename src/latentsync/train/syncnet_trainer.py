"""``latentsync train syncnet``: StableSyncNet on synced / shifted (frames, mel) pairs."""

from __future__ import annotations

import logging

import torch
from einops import rearrange
from omegaconf import DictConfig

from latentsync.errors import ConfigError
from latentsync.models.checkpoint_io import load_strict
from latentsync.models.stable_syncnet import StableSyncNet
from latentsync.models.vae import encode_pixels, load_vae
from latentsync.train.audio_cache import ClipAudio
from latentsync.train.checkpoints import load_checkpoint
from latentsync.train.clips import list_clips
from latentsync.train.common import model_weight, output_dir, save_config, setting
from latentsync.train.loop import (
    StepLoop,
    TrainResult,
    make_accelerator,
    prepare_for_training,
)
from latentsync.train.losses import (
    cosine_loss,
    offsets_loss,
    step_generator,
    syncnet_visual_input,
)
from latentsync.train.syncnet_dataset import SyncNetDataset

logger = logging.getLogger(__name__)

DEFAULT_OFFSETS = (-15, -10, -5, 0, 5, 10, 15)
"""Frame offsets of ``run.sync_objective: offsets`` (``data.sync_offsets``)."""


class SyncNetTrainer:
    def __init__(self, config: DictConfig):
        self.config = config
        self.out = output_dir(config)
        self.accumulation = int(setting(config, "data.gradient_accumulation_steps", 1))
        self.accelerator = make_accelerator(config, self.out, self.accumulation)
        from accelerate.utils import set_seed

        self.seed = int(setting(config, "run.seed", 42))
        set_seed(self.seed + self.accelerator.process_index)
        self.device = self.accelerator.device
        self.latent_space = bool(setting(config, "data.latent_space", False))
        self.lower_half = bool(setting(config, "data.lower_half", not self.latent_space))
        self.vae = self._load_vae() if self.latent_space else None
        objective = str(setting(config, "run.sync_objective", "pairs"))
        if objective not in ("pairs", "offsets"):
            raise ConfigError(f"run.sync_objective must be 'pairs' or 'offsets', got {objective!r}")
        self.offsets = (
            [int(o) for o in setting(config, "data.sync_offsets", DEFAULT_OFFSETS)]
            if objective == "offsets"
            else None
        )
        self.temperature = float(setting(config, "run.offsets_temperature", 0.1))

    def _load_vae(self):
        path = model_weight(self.config, "ckpt.vae_path", "vae", "the latent SyncNet", "")
        return load_vae(path, self.device, torch.float32)

    def dataset(
        self, fileslist_key: str, dir_key: str, seed: int, offsets: list[int] | None = None
    ) -> SyncNetDataset:
        data = self.config.data
        return SyncNetDataset(
            list_clips(setting(self.config, fileslist_key), setting(self.config, dir_key)),
            resolution=int(data.resolution),
            num_frames=int(data.num_frames),
            fps=float(setting(self.config, "data.video_fps", 25)),
            audio=ClipAudio(setting(self.config, "data.audio_mel_cache_dir") or self.out / "cache" / "mel"),
            seed=seed,
            cache_clips=int(setting(self.config, "data.cache_clips", 8)),
            length=int(setting(self.config, "data.num_train_samples", 10**9)),
            min_shift=int(setting(self.config, "data.min_negative_shift", 1)),
            offsets=offsets,
        )

    def step_generator(self, micro: int) -> torch.Generator:
        """The generator of the latent config's VAE sample at micro step ``micro`` (exact resumes)."""
        return step_generator(self.seed, micro, self.accelerator.process_index)

    def visual_input(self, frames: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """[B, F, 3, H, W] pixels -> SyncNet input (VAE latents, a posterior sample, for the latent config)."""
        if self.vae is not None:
            flat = rearrange(frames, "b f c h w -> (b f) c h w")
            latents = encode_pixels(self.vae, flat, generator or self.step_generator(0))
            frames = rearrange(latents, "(b f) c h w -> b f c h w", f=frames.shape[1])
        return syncnet_visual_input(frames, self.lower_half)

    def step_loss(self, model, batch: dict, generator: torch.Generator) -> torch.Tensor:
        """The objective of one micro batch: the original's cosine BCE on (frames, mel, y) pairs, or
        the offsets objective on [B, K, F, ...] frames (each mel window encoded once)."""
        frames = batch["frames"].to(self.device)
        mel = batch["audio_samples"].to(self.device)
        if self.offsets is not None:
            frames = frames.flatten(0, 1)
        with self.accelerator.autocast():
            vision, audio = model(self.visual_input(frames, generator), mel)
        if self.offsets is None:
            return cosine_loss(vision, audio, batch["y"].to(self.device)).mean()
        return offsets_loss(vision, audio, len(self.offsets), self.offsets.index(0), self.temperature).mean()

    def train(self) -> TrainResult:
        config, acc = self.config, self.accelerator
        model = StableSyncNet(
            config.model,
            gradient_checkpointing=bool(setting(config, "run.enable_gradient_checkpointing", False)),
        )
        model.train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=float(config.optimizer.lr))
        loop = StepLoop.from_config(
            config, acc, model, optimizer, self.out, self.accumulation, "syncnet", default_save_every=2500
        )
        resume = setting(config, "ckpt.resume_ckpt_path")
        if resume:
            state, step, sidecar = load_checkpoint(resume)
            load_strict(model, state, f"SyncNet checkpoint {resume}")
            loop.restore(step, sidecar)
        if acc.is_main_process:
            save_config(config, self.out, "syncnet_config.yaml")
            acc.init_trackers("syncnet")
        train_set = self.dataset("data.train_fileslist", "data.train_data_dir", self.seed, self.offsets)
        loader = loop.loader(train_set, config)
        loop.model, loop.optimizer = prepare_for_training(acc, model, optimizer, loader)
        validate = self._validator(loop)

        def step_loss(batch: dict, micro: int):
            return self.step_loss(loop.model, batch, self.step_generator(micro)), {}

        self.last_model = loop.model
        return loop.run(iter(loader), step_loss, validate)

    def _validator(self, loop: StepLoop):
        every = int(setting(self.config, "run.validation_steps", 0))
        has_val = setting(self.config, "data.val_fileslist") or setting(self.config, "data.val_data_dir")
        if every <= 0 or not has_val:
            logger.info(
                "no SyncNet validation (set data.val_fileslist or data.val_data_dir and run.validation_steps)"
            )
            return None
        val_set = self.dataset("data.val_fileslist", "data.val_data_dir", self.seed + 10**6)
        samples = int(setting(self.config, "data.num_val_samples", 256))
        batch_size = min(int(self.config.data.batch_size), 64)

        def on_step(step: int) -> None:
            if step % every or not self.accelerator.is_main_process:
                return
            model = self.accelerator.unwrap_model(loop.model)
            model.eval()
            losses, correct = [], 0
            with torch.no_grad():
                for first in range(0, samples, batch_size):
                    items = [val_set[i] for i in range(first, min(first + batch_size, samples))]
                    frames = torch.stack([b["frames"] for b in items]).to(self.device)
                    mel = torch.stack([b["audio_samples"] for b in items]).to(self.device)
                    y = torch.stack([b["y"] for b in items]).to(self.device)
                    vision, audio = model(self.visual_input(frames), mel)
                    losses.append(cosine_loss(vision, audio, y))
                    sims = torch.nn.functional.cosine_similarity(vision, audio)
                    correct += int(((sims > 0.5).float() == y.view(-1)).sum())
            model.train()
            val_loss = torch.cat(losses).mean().item()
            accuracy = correct / samples
            loop.history.val_steps.append(step)
            loop.history.val_values.setdefault("val loss", []).append(val_loss)
            self.accelerator.log({"val_loss": val_loss, "val_accuracy": accuracy}, step=step)
            logger.info("validation at step %d: loss %.4f, accuracy %.3f", step, val_loss, accuracy)

        return on_step
