"""StableSyncNet: the lip-sync expert whose audio/visual embeddings supervise the UNet."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from omegaconf import DictConfig
from torch import nn

from latentsync.config import load_config, to_plain
from latentsync.errors import ConfigError
from latentsync.models.checkpoint_io import load_weights
from latentsync.models.syncnet_blocks import DownEncoder

_ENCODER_KEYS = ("in_channels", "block_out_channels", "downsample_factors", "attn_blocks")


def _encoder(section: Mapping[str, Any], name: str) -> DownEncoder:
    missing = [k for k in _ENCODER_KEYS if k not in section]
    if missing:
        raise ConfigError(f"syncnet config section '{name}' lacks {', '.join(missing)}")
    return DownEncoder(
        in_channels=int(section["in_channels"]),
        block_out_channels=[int(c) for c in section["block_out_channels"]],
        downsample_factors=list(section["downsample_factors"]),
        attn_blocks=[int(a) for a in section["attn_blocks"]],
        dropout=float(section.get("dropout", 0.0)),
    )


class StableSyncNet(nn.Module):
    """Two convolutional encoders mapping a 16-frame mouth clip and its mel window to unit vectors.

    ``config`` is the ``model`` section of a SyncNet config (``audio_encoder``/``visual_encoder``).
    Cosine similarity of the two outputs is the sync score.
    """

    def __init__(self, config: Mapping[str, Any] | DictConfig, gradient_checkpointing: bool = False):
        super().__init__()
        config = to_plain(config) if isinstance(config, DictConfig) else dict(config)
        for name in ("audio_encoder", "visual_encoder"):
            if name not in config:
                raise ConfigError(f"syncnet model config lacks '{name}' (pass the config's 'model' section)")
        self.config = config
        self.audio_encoder = _encoder(config["audio_encoder"], "audio_encoder")
        self.visual_encoder = _encoder(config["visual_encoder"], "visual_encoder")
        self.audio_encoder.gradient_checkpointing = gradient_checkpointing
        self.visual_encoder.gradient_checkpointing = gradient_checkpointing
        self.eval()

    def forward(
        self, image_sequences: torch.Tensor, audio_sequences: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``image_sequences`` [B, C*F, H, W], ``audio_sequences`` [B, 1, 80, T] -> L2-normalised embeddings."""
        vision = self.visual_encoder(image_sequences).flatten(1)
        audio = self.audio_encoder(audio_sequences).flatten(1)
        return F.normalize(vision, p=2, dim=1), F.normalize(audio, p=2, dim=1)


def load_stable_syncnet(
    config: str | Path | Mapping[str, Any] | DictConfig,
    checkpoint: str | Path | None = None,
    device: str | torch.device = "cpu",
) -> StableSyncNet:
    """A StableSyncNet from a config (name, YAML path, full config or its ``model`` section).

    ``checkpoint``: ``stable_syncnet.pt`` (``{"state_dict": ...}`` or bare), loaded strictly.
    """
    if isinstance(config, (str, Path)):
        config = load_config(config, "syncnet")
    section = config["model"] if "model" in config else config
    model = StableSyncNet(section)
    if checkpoint is None:
        return model.to(device).eval()
    hint = "the published stable_syncnet.pt fits config 'syncnet_16_pixel_attn'"
    return load_weights(model, checkpoint, "StableSyncNet", hint=hint, device=device)
