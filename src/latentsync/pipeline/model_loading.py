"""Loading the models a lip-sync run needs, with weights from the one resolver."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import torch
from omegaconf import DictConfig

from latentsync import weights
from latentsync.audio.whisper import WhisperFeatures
from latentsync.config import load_config
from latentsync.device import pick_device, pick_dtype
from latentsync.errors import ConfigError
from latentsync.models.unet_io import load_unet
from latentsync.models.vae import load_vae
from latentsync.pipeline.fast_paths import autocast_weights_dtype, check_autocast
from latentsync.pipeline.offload import load_device, offload_models
from latentsync.pipeline.oom import memory_stage
from latentsync.pipeline.options import InferenceOptions

logger = logging.getLogger(__name__)

PUBLISHED_RESOLUTION = {"1.6": 512, "1.5": 256}


@dataclass
class InferenceModels:
    unet: torch.nn.Module
    vae: torch.nn.Module
    whisper: object  # latentsync.audio.whisper.WhisperFeatures
    config: DictConfig
    device: torch.device
    dtype: torch.dtype
    offload: str = "none"
    offloader: object = None  # latentsync.pipeline.offload.ModelOffload for offload="model"

    @property
    def resolution(self) -> int:
        return int(self.config.data.resolution)

    @property
    def num_frames(self) -> int:
        return int(self.config.data.num_frames)


def check_model_matches_config(options: InferenceOptions, config: DictConfig) -> None:
    """Published weights only with the config they were trained at (a 1.5 UNet with the 512 config
    gives visible mask boxes in the original)."""
    if options.unet_checkpoint:
        return  # a custom checkpoint: the user's config is authoritative
    want = PUBLISHED_RESOLUTION[options.model]
    have = int(config.data.resolution)
    if have != want:
        good = "stage2_512" if want == 512 else "stage2"
        raise ConfigError(
            f"LatentSync {options.model} weights are trained at {want}x{want}, but the UNet config "
            f"'{options.unet_config_name}' is for {have}x{have}: use --unet-config {good} (or omit it)"
        )


def resolve_weight_paths(options: InferenceOptions) -> dict[str, Path]:
    explicit = {"unet": options.unet_checkpoint, "vae": options.vae, "whisper": options.whisper}
    return weights.resolve(weights.model_files(options.model), explicit)


def load_inference_models(options: InferenceOptions) -> InferenceModels:
    """Weights land on the device, or stay on the CPU when offloading (``options.offload``)."""

    config = load_config(options.unet_config_name, "unet")
    check_model_matches_config(options, config)
    paths = resolve_weight_paths(options)
    device = pick_device(options.device)
    if options.autocast:
        check_autocast(options.autocast, device)
    dtype = pick_dtype(autocast_weights_dtype(options.autocast, options.dtype), device)
    home = load_device(options.offload, device)
    logger.info(
        "loading models on %s (%s)%s",
        device,
        str(dtype).removeprefix("torch."),
        f", offload {options.offload}" if options.offload != "none" else "",
    )
    with memory_stage("loading the models"):
        unet = load_unet(config, paths["unet"], device=home, dtype=dtype).eval().requires_grad_(False)
        vae = load_vae(paths["vae"], home, dtype)
        whisper = WhisperFeatures(paths["whisper"], device=str(home))
        whisper.device = device  # mel windows go to the execution device; the encoder follows them
        offloader = offload_models(options.offload, device, unet, vae, whisper.encoder)
    return InferenceModels(
        unet=unet,
        vae=vae,
        whisper=whisper,
        config=config,
        device=device,
        dtype=dtype,
        offload=options.offload,
        offloader=offloader,
    )
