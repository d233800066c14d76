"""Opt-in speed switches for the models of a run (each one off by default, each tested in tests/speed).

- ``autocast``: the UNet runs under ``torch.autocast`` (bf16 on CPU, fp16/bf16 on CUDA) with fp32
  weights, so numerically sensitive ops (norms, softmax) stay in fp32.
- ``channels_last``: NHWC weights for the per-frame 2D convolutions (faster with cuDNN/oneDNN).
- ``compile``: ``torch.compile`` of the UNet in place (DeepCache keeps working on the same module).
- ``vae_slicing``: the VAE encodes/decodes one image at a time (peak memory of one frame, same result).
- ``vae_tiling``: the VAE works on overlapping tiles (bounded memory at high resolution; close, not equal).
"""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager, nullcontext

import torch

from latentsync.errors import ConfigError
from latentsync.models.deepcache import DeepCache

logger = logging.getLogger(__name__)

AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def autocast_context(name: str | None, device: torch.device | str) -> AbstractContextManager:
    """``torch.autocast`` for ``name`` (bf16/fp16) on ``device``, or a no-op for None."""
    if not name:
        return nullcontext()
    check_autocast(name, device)
    return torch.autocast(torch.device(device).type, dtype=AUTOCAST_DTYPES[name])


def check_autocast(name: str, device: torch.device | str) -> None:
    """Refuse what the device cannot run: fp16 autocast on the CPU, bf16 on pre-Ampere CUDA GPUs."""
    if name not in AUTOCAST_DTYPES:
        raise ConfigError(f"unknown autocast dtype {name!r}: use bf16 or fp16")
    device = torch.device(device)
    if device.type == "cpu" and name == "fp16":
        raise ConfigError("--autocast fp16 needs a GPU; use --autocast bf16 on CPU")
    if device.type == "cuda" and name == "bf16":
        major, minor = torch.cuda.get_device_capability(device)
        if major < 8:
            raise ConfigError(
                f"--autocast bf16 needs an Ampere or newer GPU (this one is compute capability {major}.{minor}): "
                "use --autocast fp16"
            )


def autocast_weights_dtype(autocast: str | None, dtype_name: str) -> str:
    """Autocast runs on fp32 weights (it casts per op): 'auto'/'fp32' become fp32, a half dtype is refused."""
    if not autocast:
        return dtype_name
    if dtype_name not in ("auto", "fp32"):
        raise ConfigError(
            f"--autocast {autocast} keeps the weights in fp32 and casts per operation: drop --dtype {dtype_name}"
        )
    return "fp32"


def use_channels_last(module: torch.nn.Module) -> torch.nn.Module:
    """Convolution weights in NHWC order; the UNet's 5D activations are folded to 4D per frame."""
    return module.to(memory_format=torch.channels_last)


def compile_unet(unet: torch.nn.Module, mode: str | None = None) -> torch.nn.Module:
    """Compile ``unet.forward`` in place (idempotent): attributes such as ``deep_cache`` stay on the module."""
    if getattr(unet, "_latentsync_compiled", False):
        return unet
    unet.compile(mode=mode, dynamic=False)
    unet._latentsync_compiled = True
    return unet


def configure_vae(vae, slicing: bool = False, tiling: bool = False):
    """Turn diffusers' slicing/tiling on or off (both off is the default behaviour)."""
    if slicing:
        vae.enable_slicing()
    else:
        vae.disable_slicing()
    if tiling:
        vae.enable_tiling()
    else:
        vae.disable_tiling()
    return vae


def apply_fast_paths(models, options) -> None:
    """Apply the options' model switches to ``models`` (an ``InferenceModels``), in place."""
    if options.channels_last:
        use_channels_last(models.unet)
        use_channels_last(models.vae)
    if hasattr(models.vae, "enable_slicing"):  # models may be reused across runs: set both ways
        tiling = options.vae_tiling or (options.low_vram and models.resolution > 512)  # "where needed"
        configure_vae(models.vae, options.vae_slicing, tiling)
    if options.compile:
        compile_unet(models.unet)
    if options.autocast:
        autocast_context(options.autocast, models.device)  # validate before the first chunk


def attach_deepcache(options, models):
    """(cache attached to the UNet for this run, per-step hook) or (None, None)."""
    if not options.deepcache:
        return None, None

    cache = DeepCache(models.unet).enable()

    def hook(step: int) -> None:
        if step == 0:
            cache.reset()  # a new chunk: nothing cached applies

    return cache, hook
