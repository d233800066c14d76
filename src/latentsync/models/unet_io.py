"""Building the UNet from a config and loading/saving it in the published checkpoint formats."""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig

from latentsync.config import load_config, to_plain
from latentsync.errors import CheckpointError, ConfigError
from latentsync.models.checkpoint_io import load_strict, read_state_file
from latentsync.models.motion_module import sinusoidal_table
from latentsync.models.unet import UNet3DConditionModel

logger = logging.getLogger(__name__)

_STAGE1 = "a stage1 config (stage1 / stage1_512)"
_STAGE2 = "a stage2 config (stage2 / stage2_512)"


def unet_model_config(config: str | Path | DictConfig | Mapping[str, Any]) -> dict:
    """The ``model`` section as a plain dict, from a packaged name, a YAML path or a config object."""
    if isinstance(config, (str, Path)):
        config = load_config(config, "unet").model
    elif isinstance(config, DictConfig | Mapping) and "model" in config:
        config = config["model"]
    if not isinstance(config, DictConfig | Mapping):
        raise ConfigError(f"not a UNet config: {type(config).__name__}")
    return to_plain(config)


def build_unet(config: str | Path | DictConfig | Mapping[str, Any]) -> UNet3DConditionModel:
    """A freshly initialised UNet (for training from scratch); see ``load_unet`` for weights."""
    try:
        return UNet3DConditionModel.from_config(unet_model_config(config))
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"invalid UNet config: {exc}") from exc


def read_unet_state(checkpoint: str | Path) -> tuple[dict[str, torch.Tensor], int]:
    """State dict and ``global_step`` of a ``.pt`` (published or bare) or ``.safetensors`` file."""
    state, meta = read_state_file(checkpoint)
    step = meta.get("global_step", 0)
    try:
        step = int(step.item() if isinstance(step, torch.Tensor) else step)
    except (TypeError, ValueError):
        step = 0
    return state, step


def _has_motion(keys, where: str = "") -> bool:
    return any(k.startswith(where) and ".motion_modules." in k for k in keys)


def mismatch_hint(model_keys, checkpoint: Mapping[str, torch.Tensor], config: dict) -> str | None:
    """What the user most likely did wrong, judged from which key families differ."""
    ckpt_keys = list(checkpoint)
    if "conv_in.weight" not in checkpoint:
        return "this is not a LatentSync UNet checkpoint (it has no conv_in.weight)"
    model_keys = list(model_keys)
    if _has_motion(model_keys) and not _has_motion(ckpt_keys):
        return f"checkpoint has no motion modules: use {_STAGE1}"
    if _has_motion(ckpt_keys) and not _has_motion(model_keys):
        return f"checkpoint has motion modules: use {_STAGE2} or stage2_efficient"
    ckpt_down, model_down = _has_motion(ckpt_keys, "down_blocks."), _has_motion(model_keys, "down_blocks.")
    if ckpt_down and not model_down:
        return f"checkpoint has motion modules in the down blocks: use {_STAGE2}, not stage2_efficient"
    if model_down and not ckpt_down:
        return "checkpoint has motion modules only in the decoder: use stage2_efficient"
    channels = checkpoint["conv_in.weight"].shape[1]
    if channels != config.get("in_channels"):
        return f"checkpoint's conv_in takes {channels} channels but the config says in_channels={config.get('in_channels')}"
    width = checkpoint["conv_in.weight"].shape[0]
    if list(config.get("block_out_channels", []))[:1] != [width]:
        return f"checkpoint's first block has {width} channels: block_out_channels does not match"
    return None


def _add_missing_position_tables(model: UNet3DConditionModel, state: dict[str, torch.Tensor]) -> None:
    """Checkpoints saved without the motion modules' ``pe`` buffers get the standard table.

    Only for attention blocks the checkpoint has; a checkpoint without motion modules stays so.
    """
    for key, buffer in model.state_dict().items():
        block = key.removesuffix("pos_encoder.pe")
        if block != key and key not in state and f"{block}to_q.weight" in state:
            state[key] = sinusoidal_table(buffer.shape[1], buffer.shape[2])


def load_unet(
    config: str | Path | DictConfig | Mapping[str, Any],
    checkpoint: str | Path | Mapping[str, torch.Tensor],
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
) -> UNet3DConditionModel:
    """The UNet of ``config`` with every weight of ``checkpoint`` (strict: nothing missing or extra).

    The model is built without allocating weights and then takes the checkpoint's tensors,
    so peak memory is about one copy of the weights.
    """
    model_config = unet_model_config(config)
    source = str(checkpoint) if isinstance(checkpoint, (str, Path)) else "state dict"
    if isinstance(checkpoint, (str, Path)):
        state, step = read_unet_state(checkpoint)
        logger.info("UNet checkpoint %s (global_step %d)", checkpoint, step)
    else:
        state = dict(checkpoint)
    with torch.device("meta"):
        try:
            model = UNet3DConditionModel.from_config(model_config)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"invalid UNet config: {exc}") from exc
    _add_missing_position_tables(model, state)
    hint = mismatch_hint(model.state_dict().keys(), state, model_config)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*non-meta parameter.*")
        load_strict(model, state, source, hint=hint)  # checks names and shapes only on a meta model
    model.load_state_dict(state, strict=True, assign=True)
    del state
    # nn.Module.to: diffusers' ModelMixin.to logs a spurious float32 warning on every dtype cast
    return torch.nn.Module.to(model, device=device, dtype=dtype).eval()


def save_unet(model: UNet3DConditionModel, path: str | Path, global_step: int = 0) -> Path:
    """``.safetensors`` by suffix, otherwise the published ``{"state_dict", "global_step"}`` ``.pt``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    partial = path.with_name(path.name + ".partial")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import save_file

            save_file(state, str(partial), metadata={"global_step": str(int(global_step))})
        else:
            torch.save({"state_dict": state, "global_step": int(global_step)}, partial)
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise CheckpointError(f"cannot write checkpoint {path}: {exc}") from exc
    logger.info("saved UNet to %s (global_step %d)", path, global_step)
    return path
