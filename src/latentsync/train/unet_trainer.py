"""``latentsync train unet``: the lip-sync UNet with the original's objectives (``unet_objective``).

The pixel terms need ``run.pixel_space_supervise``; a zero weight skips its model entirely.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from omegaconf import DictConfig

from latentsync import weights
from latentsync.config import load_config, to_plain
from latentsync.device import pick_dtype
from latentsync.errors import ConfigError, MissingWeightsError
from latentsync.models.stable_syncnet import load_stable_syncnet
from latentsync.models.unet_io import build_unet, load_unet
from latentsync.models.vae import load_vae
from latentsync.pipeline.generate import make_scheduler
from latentsync.train.audio_cache import ClipAudio
from latentsync.train.checkpoints import load_checkpoint
from latentsync.train.clips import list_clips
from latentsync.train.common import aux_weight, model_weight, output_dir, save_config, setting
from latentsync.train.loop import (
    StepLoop,
    TrainResult,
    make_accelerator,
    prepare_for_training,
)
from latentsync.train.losses import step_generator
from latentsync.train.lpips import load_lpips
from latentsync.train.trepa import VIDEOMAE_G, ViTConfig, load_trepa
from latentsync.train.unet_dataset import UNetDataset
from latentsync.train.unet_objective import SyncTarget, UNetObjective, loss_weights
from latentsync.train.validation import UNetValidator

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
        self.accumulation = int(setting(config, "data.gradient_accumulation_steps", 1))
        self.accelerator = make_accelerator(
            config,
            self.out,
            self.accumulation,
            find_unused=bool(setting(config, "run.find_unused_parameters", False)),
        )
        from accelerate.utils import set_seed

        self.seed = int(setting(config, "run.seed", 1247))
        set_seed(self.seed + self.accelerator.process_index)
        self.device = self.accelerator.device
        self.num_frames = int(config.data.num_frames)
        self.resolution = int(config.data.resolution)
        self.pixel_supervise = bool(setting(config, "run.pixel_space_supervise", False))
        self.weights = loss_weights(config)
        self.audio_layer = bool(config.model.get("add_audio_layer", True))
        self.use_syncnet = (
            self.audio_layer and bool(setting(config, "run.use_syncnet", False)) and self.weights["sync"] != 0
        )
        self.scheduler = make_scheduler()
        self._load_frozen_models()
        self._objective = self.objective()

    # ---- frozen models -------------------------------------------------------------------
    def _load_frozen_models(self) -> None:
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
        name = setting(self.config, "data.syncnet_config_path", "syncnet_16_pixel_attn")
        syncnet_config = load_config(str(name), "syncnet")
        path = setting(self.config, "ckpt.syncnet_ckpt_path") or setting(
            syncnet_config, "ckpt.inference_ckpt_path"
        )
        if not path:
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

        vgg = aux_weight(
            self.config,
            "ckpt.vgg16_path",
            "vgg16",
            "; or set run.perceptual_loss_weight=0 to train without it",
        )
        return load_lpips(vgg, setting(self.config, "ckpt.lpips_heads_path")).to(self.device)

    def _load_trepa(self):

        path = aux_weight(
            self.config,
            "ckpt.trepa_ckpt_path",
            "videomae",
            "; or set run.trepa_loss_weight=0 to train without it",
        )
        overrides = setting(self.config, "run.trepa_model")
        cfg = ViTConfig(**to_plain(overrides)) if overrides else VIDEOMAE_G
        # fp16 on CUDA as the original holds VideoMAE (ViT-g: 2 GB instead of 4); fp32 elsewhere
        return load_trepa(path, cfg).to(self.device, pick_dtype("auto", self.device))

    # ---- model ---------------------------------------------------------------------------
    def _build_unet(self):
        resume = setting(self.config, "ckpt.resume_ckpt_path")
        if not resume:
            return build_unet(self.config), 0, None
        state, step, sidecar = load_checkpoint(resume)
        unet = load_unet(self.config, state)
        return unet, step, sidecar

    # ---- one step ------------------------------------------------------------------------
    def objective(self) -> UNetObjective:
        sync = None
        if self.syncnet is not None:
            data = self.syncnet_config.data
            sync = SyncTarget(self.syncnet, int(data.resolution), bool(data.lower_half))
        return UNetObjective.from_config(self.config, self.vae, self.scheduler, sync, self.lpips, self.trepa)

    def dataset_audio(self) -> ClipAudio:
        """Mel and Whisper features per clip, cached under the config's cache folders."""
        return ClipAudio(
            setting(self.config, "data.audio_mel_cache_dir") or self.out / "cache" / "mel",
            setting(self.config, "data.audio_embeds_cache_dir") or self.out / "cache" / "whisper",
            self.whisper_path,
        )

    def step_generator(self, micro: int) -> torch.Generator:
        """The generator of every draw of micro step ``micro`` on this process (exact resumes)."""
        return step_generator(self.seed, micro, self.accelerator.process_index)

    def losses(self, unet, batch: dict, micro: int) -> tuple[torch.Tensor, dict[str, float]]:
        out = self._objective.step(unet, batch, self.step_generator(micro), self.accelerator.autocast)
        return out.loss, {f"loss_{k}": float(v.detach()) for k, v in out.terms.items()}

    # ---- loop ----------------------------------------------------------------------------
    def train(self) -> TrainResult:
        config, acc = self.config, self.accelerator
        unet, resume_step, sidecar = self._build_unet()
        unet.train()
        params = select_trainable(
            unet,
            list(setting(config, "run.trainable_modules", []) or [])
            if config.model.get("use_motion_module")
            else [],
        )
        if setting(config, "run.enable_gradient_checkpointing", False):
            unet.enable_gradient_checkpointing()
        lr = float(config.optimizer.lr) * (
            acc.num_processes if setting(config, "optimizer.scale_lr", False) else 1
        )
        optimizer = torch.optim.AdamW(params, lr=lr)
        logger.info(
            "trainable parameters: %.3f M in %d tensors", sum(p.numel() for p in params) / 1e6, len(params)
        )
        loop = StepLoop.from_config(
            config, acc, unet, optimizer, self.out, self.accumulation, "unet", default_save_every=10000
        )
        loop.restore(resume_step, sidecar)
        if acc.is_main_process:
            save_config(config, self.out, "unet_config.yaml")
            acc.init_trackers("unet")
        dataset = UNetDataset(
            list_clips(setting(config, "data.train_fileslist"), setting(config, "data.train_data_dir")),
            resolution=self.resolution,
            num_frames=self.num_frames,
            fps=float(setting(config, "data.video_fps", 25)),
            audio=self.dataset_audio(),
            with_audio_embeds=self.audio_layer,
            with_mel=self.use_syncnet,
            seed=self.seed,
            cache_clips=int(setting(config, "data.cache_clips", 8)),
            length=int(setting(config, "data.num_train_samples", 10**9)),
        )
        loader = loop.loader(dataset, config)
        loop.model, loop.optimizer = prepare_for_training(acc, unet, optimizer, loader)

        self.dataset = dataset
        validator = UNetValidator(self, loop)
        self.last_model = loop.model
        return loop.run(iter(loader), lambda batch, micro: self.losses(loop.model, batch, micro), validator)
