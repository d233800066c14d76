"""Peak device memory of a run for its settings, before loading anything (``infer --estimate``).

peak = max over the stages (Whisper, VAE encode, UNet, VAE decode) of
       weights on the device during that stage   (all of them; one model with --offload model;
                                                   the largest submodule with --offload sequential)
     + the stage's activations                    (measured by memory_trace on fake weights:
                                                   UNet at one CFG chunk, VAE at one frame, both
                                                   scaled linearly by batch, which is exact per sample)
     + frames held across the stages              (pixels, masked pixels, decoded output in fp32)
     + CUDA_OVERHEAD_BYTES on CUDA                (context, cuDNN workspace, allocator slack)
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, replace

import torch

from latentsync.config import load_config
from latentsync.device import pick_device, pick_dtype
from latentsync.errors import OutOfMemory
from latentsync.models.unet_io import build_unet
from latentsync.pipeline import memory_trace
from latentsync.pipeline.fast_paths import autocast_weights_dtype
from latentsync.pipeline.oom import as_out_of_memory, device_free_bytes

logger = logging.getLogger(__name__)

GB = 1024**3
CUDA_OVERHEAD_BYTES = int(0.75 * GB)  # measured-elsewhere rule of thumb: CUDA context + cuDNN + slack
FIT_MARGIN = 0.95  # use at most this share of the free memory
VAE_TILE = 256  # sd-vae-ft-mse sample_size: diffusers' tile edge in pixels
SKIP_CHECK_ENV = "LATENTSYNC_NO_MEMORY_CHECK"
SD_VAE = dict(
    block_out_channels=[128, 256, 512, 512],
    down_block_types=["DownEncoderBlock2D"] * 4,
    up_block_types=["UpDecoderBlock2D"] * 4,
    layers_per_block=2,
    latent_channels=4,
    sample_size=VAE_TILE,
)
WHISPER_TINY = dict(n_mels=80, n_ctx=1500, n_state=384, n_head=6, n_layer=4)
STAGES = ("Whisper", "VAE encode", "UNet", "VAE decode")


@dataclass(frozen=True)
class RunSettings:
    """What decides device memory (hashable: the traces are cached per model shape)."""

    unet_config: str
    resolution: int
    num_frames: int
    dtype: str  # "float16" / "bfloat16" / "float32": the weights
    device_type: str = "cuda"
    batch_chunks: int = 1
    offload: str = "none"
    vae_slicing: bool = False
    vae_tiling: bool = False
    autocast: str | None = None
    cfg: bool = True

    @classmethod
    def from_options(cls, options, device: torch.device | None = None) -> RunSettings:

        config = load_config(options.unet_config_name, "unet")
        device = device or pick_device(options.device)
        dtype = pick_dtype(autocast_weights_dtype(options.autocast, options.dtype), device)
        resolution = int(config.data.resolution)
        return cls(
            unet_config=options.unet_config_name,
            resolution=resolution,
            num_frames=int(config.data.num_frames),
            dtype=str(dtype).removeprefix("torch."),
            device_type=device.type,
            batch_chunks=max(1, options.batch_chunks),
            offload=options.offload,
            vae_slicing=options.vae_slicing,
            vae_tiling=options.vae_tiling or (options.low_vram and resolution > 512),
            autocast=options.autocast,
            cfg=options.guidance_scale > 1.0,
        )

    @property
    def torch_dtype(self) -> torch.dtype:
        return getattr(torch, self.dtype)

    @property
    def activation_dtype(self) -> torch.dtype:
        return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(self.autocast or "", self.torch_dtype)

    def vae_frames(self) -> int:
        """Frames per VAE call: one chunk (the generator's sub-batch), one frame with slicing."""
        return 1 if self.vae_slicing else min(self.num_frames, self.num_frames * self.batch_chunks)


# --- measured pieces (cached: a trace of the full UNet takes a few seconds) --------------------


def _build_unet(config_name: str):

    return build_unet(load_config(config_name, "unet"))


def _build_vae():
    from diffusers import AutoencoderKL

    return AutoencoderKL(**SD_VAE)


def _build_whisper():
    from whisper.model import AudioEncoder

    return AudioEncoder(**WHISPER_TINY)


def _element_bytes(dtype: torch.dtype) -> int:
    return torch.finfo(dtype).bits // 8


@functools.lru_cache(maxsize=16)
def unet_activation_bytes(config_name: str, resolution: int, num_frames: int, cfg: bool) -> int:
    """One UNet call on one chunk (two with CFG), fp16 activations."""
    latent = resolution // 8
    batch = 2 if cfg else 1

    def call(unet, _mode):
        sample = torch.empty(batch, 13, num_frames, latent, latent, dtype=torch.float16)
        audio = torch.empty(batch * num_frames, 50, 384, dtype=torch.float16)
        unet(sample, 10, encoder_hidden_states=audio)

    return memory_trace.peak_call_bytes(lambda: _build_unet(config_name), call, torch.float16)


@functools.lru_cache(maxsize=16)
def vae_activation_bytes(kind: str, size: int) -> int:
    """One frame of ``size`` px through the VAE encoder or decoder, fp16 activations."""

    def call(vae, _mode):
        if kind == "encode":
            vae.encode(torch.empty(1, 3, size, size, dtype=torch.float16))
        else:
            vae.decode(torch.empty(1, 4, size // 8, size // 8, dtype=torch.float16))

    return memory_trace.peak_call_bytes(_build_vae, call, torch.float16)


@functools.lru_cache(maxsize=4)
def whisper_activation_bytes() -> int:
    def call(encoder, _mode):
        encoder(torch.empty(1, WHISPER_TINY["n_mels"], 2 * WHISPER_TINY["n_ctx"], dtype=torch.float32))

    return memory_trace.peak_call_bytes(_build_whisper, call, torch.float32)


@functools.lru_cache(maxsize=16)
def weight_bytes(which: str, config_name: str, dtype: torch.dtype) -> tuple[int, int]:
    """(all parameters and buffers, the largest single submodule's own) in bytes."""
    build = {"unet": lambda: _build_unet(config_name), "vae": _build_vae, "whisper": _build_whisper}[which]
    with torch.device("meta"):
        module = build()
    size = _element_bytes(dtype)

    def own(m: torch.nn.Module) -> int:
        return sum(t.numel() * size for t in [*m.parameters(recurse=False), *m.buffers(recurse=False)])

    return memory_trace.parameter_bytes(build, dtype), max(own(m) for m in module.modules())


# --- the model of a run -----------------------------------------------------------------------


@dataclass
class StageEstimate:
    stage: str
    weights: int
    activations: int
    held: int

    @property
    def total(self) -> int:
        return self.weights + self.activations + self.held


@dataclass
class Estimate:
    settings: RunSettings
    stages: list[StageEstimate]
    overhead: int

    @property
    def peak(self) -> int:
        return max(s.total for s in self.stages) + self.overhead

    @property
    def peak_stage(self) -> str:
        return max(self.stages, key=lambda s: s.total).stage

    def table(self) -> str:
        rows = [f"{'stage':<12} {'weights':>8} {'activations':>12} {'frames':>8} {'total':>8}"]
        for s in self.stages:
            rows.append(
                f"{s.stage:<12} {s.weights / GB:>7.2f}G {s.activations / GB:>11.2f}G {s.held / GB:>7.2f}G "
                f"{s.total / GB:>7.2f}G"
            )
        if self.overhead:
            rows.append(f"{'CUDA context, cuDNN, allocator slack':<44} {self.overhead / GB:>7.2f}G")
        rows.append(f"peak ~{self.peak / GB:.1f} GB (at {self.peak_stage})")
        return "\n".join(rows)


def estimate(settings: RunSettings) -> Estimate:
    weights_dtype, act_dtype = settings.torch_dtype, settings.activation_dtype
    act_scale = _element_bytes(act_dtype) / 2  # traces are fp16
    names = ("whisper", "vae", "unet")
    sizes = {
        n: weight_bytes(n, settings.unet_config, torch.float32 if n == "whisper" else weights_dtype)
        for n in names
    }
    if settings.autocast:  # autocast keeps a half copy of each weight it casts, for the whole call
        full, part = sizes["unet"]
        sizes["unet"] = (full + full // 2, part + part // 2)

    def resident(name: str) -> int:
        if settings.offload == "none":
            return sum(full for full, _ in sizes.values())
        if settings.offload == "model":
            return sizes[name][0]
        return 2 * sizes[name][1]  # sequential: one submodule plus the next being fetched

    n = settings.num_frames * settings.batch_chunks
    frame_px = 3 * settings.resolution**2 * 4  # fp32 pixels on the device
    vae_size = min(settings.resolution, VAE_TILE) if settings.vae_tiling else settings.resolution
    vae_frames = settings.vae_frames()
    vae_dtype_scale = _element_bytes(weights_dtype) / 2
    unet_acts = unet_activation_bytes(
        settings.unet_config, settings.resolution, settings.num_frames, settings.cfg
    )
    stages = [
        StageEstimate("Whisper", resident("whisper"), whisper_activation_bytes(), 0),
        StageEstimate(
            "VAE encode",
            resident("vae"),
            int(vae_activation_bytes("encode", vae_size) * vae_frames * vae_dtype_scale),
            2 * n * frame_px,
        ),
        StageEstimate(
            "UNet", resident("unet"), int(unet_acts * settings.batch_chunks * act_scale), 2 * n * frame_px
        ),
        StageEstimate(
            "VAE decode",
            resident("vae"),
            int(vae_activation_bytes("decode", vae_size) * vae_frames * vae_dtype_scale),
            4 * n * frame_px,
        ),
    ]
    overhead = CUDA_OVERHEAD_BYTES if settings.device_type == "cuda" else 0
    return Estimate(settings, stages, overhead)


# --- advice: the cheapest change that fits ----------------------------------------------------

_LADDER = (
    ("--batch-chunks 1", lambda s: s.batch_chunks > 1, dict(batch_chunks=1)),
    ("--vae-slicing", lambda s: not s.vae_slicing, dict(vae_slicing=True)),
    ("--offload model", lambda s: s.offload == "none", dict(offload="model")),
    ("--dtype fp16", lambda s: s.dtype == "float32" and not s.autocast, dict(dtype="float16")),
    ("--offload sequential", lambda s: s.offload != "sequential", dict(offload="sequential")),
)


def fitting_setting(settings: RunSettings, free_bytes: int) -> tuple[str, int] | None:
    """(flags, peak) of the first cumulative step of the ladder that fits ``free_bytes``, or None."""
    flags: list[str] = []
    current = settings
    for flag, applies, change in _LADDER:
        if not applies(current):
            continue
        current = replace(current, **change)
        flags.append(flag)
        peak = estimate(current).peak
        if peak <= free_bytes * FIT_MARGIN:
            if {"--vae-slicing", "--offload model"} <= set(flags) and "--offload sequential" not in flags:
                flags = [f for f in flags if f not in ("--vae-slicing", "--offload model")] + ["--low-vram"]
            return " ".join(flags), peak
    return None


def advice(settings: RunSettings, free_bytes: int | None) -> str:
    if free_bytes is None:
        return "--low-vram, --batch-chunks 1 or --offload sequential"
    found = fitting_setting(settings, free_bytes)
    if found is None:
        return "a device with more memory, or --device cpu (nothing here fits)"
    flags, peak = found
    return f"{flags} (~{peak / GB:.1f} GB)"


# --- what the runner calls --------------------------------------------------------------------


@dataclass
class MemoryBudget:
    """The run's device, its free memory when the run started, and the estimate's settings."""

    device: torch.device
    free_bytes: int | None
    settings: RunSettings | None


def memory_budget(options, models=None) -> MemoryBudget:
    device = models.device if models is not None else pick_device(options.device)
    try:
        settings = RunSettings.from_options(options, device)
    except Exception:  # noqa: BLE001 - a bad config is reported by the loader with its own message
        logger.debug("no memory estimate for these settings", exc_info=True)
        settings = None
    return MemoryBudget(device, device_free_bytes(device), settings)


def check_fits(options, budget: MemoryBudget) -> None:
    """On CUDA, stop before loading when the estimate exceeds the free memory (naming what fits)."""
    if budget.device.type != "cuda" or budget.settings is None or budget.free_bytes is None:
        return
    if os.environ.get(SKIP_CHECK_ENV):
        return
    peak = estimate(budget.settings).peak
    if peak > budget.free_bytes:
        raise OutOfMemory(
            "the check before loading",
            "GPU",
            peak / GB,
            budget.free_bytes / GB,
            advice(budget.settings, budget.free_bytes) + f" (or set {SKIP_CHECK_ENV}=1 to try anyway)",
        )


def explained_oom(exc: BaseException, options, budget: MemoryBudget) -> OutOfMemory | None:
    """``exc`` as an :class:`OutOfMemory` with the estimate, the free memory and advice, or None."""
    oom = as_out_of_memory(exc, "lip-sync")
    if oom is None:
        return None
    if oom.needs_gb is None and oom.memory == "GPU" and budget.settings is not None:
        try:
            oom.needs_gb = estimate(budget.settings).peak / GB
            oom.advice = advice(budget.settings, budget.free_bytes)
        except Exception:  # noqa: BLE001 - the one-line error matters more than the numbers
            logger.debug("estimate failed while reporting out-of-memory", exc_info=True)
    if oom.free_gb is None and budget.free_bytes is not None:
        oom.free_gb = budget.free_bytes / GB
    if oom.memory == "host" and oom.advice is None:
        oom.advice = "--batch-chunks 1, a lower resolution source, or a machine with more RAM"
    return oom


def reports_out_of_memory(run: Callable) -> Callable:
    """Decorates ``run(options, models=None, ...)``: on CUDA the estimate is checked against the free
    memory first (only before loading: loaded weights already hold their part); an out-of-memory inside
    becomes one :class:`OutOfMemory` with the numbers and advice."""

    @functools.wraps(run)
    def wrapper(options, models=None, *args, **kwargs):
        budget = memory_budget(options, models)
        try:
            if models is None:
                check_fits(options, budget)
            return run(options, models, *args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - only out-of-memory is rewritten
            oom = explained_oom(exc, options, budget)
            if oom is None:
                raise
            raise oom from exc

    return wrapper


def vae_frames_for(models) -> int:
    """Frames per VAE call for loaded ``models``: one chunk, fewer when a CUDA device is short of memory
    (the room is what the card has free plus what torch holds unused, measured now)."""
    frames = models.num_frames
    if models.device.type != "cuda":
        return frames
    free, _total = torch.cuda.mem_get_info(models.device)
    room = free + torch.cuda.memory_reserved(models.device) - torch.cuda.memory_allocated(models.device)
    per_frame = vae_activation_bytes("decode", models.resolution) * _element_bytes(models.dtype) / 2
    return int(max(1, min(frames, room * FIT_MARGIN // max(per_frame, 1))))
