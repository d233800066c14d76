"""ms per UNet denoising step: tiny and full-size (stage2_512) UNet, 16 frames, CFG batch 2.

Run from the repo root: ``python -m benchmarks.unet_speed [--quick] [--steps 3]``.
Each cell is the mean over a ``--steps`` loop (as in a denoising chunk, latents drifting);
columns: float32, float32 + DeepCache (interval 3, branch 0), bfloat16 autocast, channels_last,
then the other fast paths against their plain counterparts: "CFG 2 calls" (the unbatched guidance
the batched call replaces), "2 chunks/call" (``--batch-chunks 2``, ms per chunk), "SDPA math" (the
reference attention kernel instead of the default), "compile" (``torch.compile``, opt-in via
``--modes``: its first call, not timed, takes minutes on CPU; the log gives its largest difference to
the eager model's output, the check the test suite cannot afford).
``--quick``: tiny UNet at 16x16 only; ``--models/--sizes/--modes`` pick rows and columns. Weights are the golden deterministic ones.
``--profile``: after the table, calls and seconds of the convolution and copy kernels in one float32
step per row (where a memory-layout regression shows: see docs/cost_model.md, "UNet speed").
The comparison with the original in docs/cost_model.md is the row
``--models stage2_512 --sizes 16 --modes float32 --threads 2``.
"""

from __future__ import annotations

import argparse
import gc
import logging
import time
from collections.abc import Callable
from contextlib import nullcontext

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.profiler import ProfilerActivity, profile

from latentsync.models.deepcache import DeepCache
from latentsync.models.unet import UNet3DConditionModel
from latentsync.models.unet_io import load_unet
from latentsync.pipeline.fast_paths import compile_unet
from tests.helpers import golden
from tests.helpers.tiny_models import unet_state

logger = logging.getLogger("benchmarks.unet_speed")

FRAMES = 16
MODES = (
    "float32",
    "DeepCache",
    "bf16 autocast",
    "channels_last",
    "CFG 2 calls",
    "2 chunks/call",
    "SDPA math",
    "compile",
)
DEFAULT_MODES = tuple(m for m in MODES if m != "compile")
TIMESTEPS = (981, 931, 881, 831, 781, 731)
PROFILED = {"aten::mkldnn_convolution": "convolutions", "aten::copy_": "copies"}


def _inputs(in_channels: int, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    sample = torch.randn(2, in_channels, FRAMES, size, size, generator=g)
    audio = torch.randn(2 * FRAMES, 50, 384, generator=g)
    audio[:FRAMES] = 0  # unconditional half of the CFG batch
    return sample, audio


def _call(
    unet: UNet3DConditionModel, sample: torch.Tensor, t: int, audio: torch.Tensor, mode: str
) -> torch.Tensor:
    if mode == "CFG 2 calls":
        uncond = unet(sample[:1], t, audio[:FRAMES]).sample
        return torch.cat([uncond, unet(sample[1:], t, audio[FRAMES:]).sample])
    return unet(sample, t, audio).sample


def ms_per_step(unet: UNet3DConditionModel, size: int, steps: int, mode: str) -> float:
    """ms per denoising step of one 16-frame chunk (CFG batch 2)."""
    sample, audio = _inputs(unet.config.in_channels, size)
    chunks = 1
    if mode == "2 chunks/call":
        chunks = 2
        sample, audio = torch.cat([sample, sample.flip(2)]), torch.cat([audio, audio])
    if mode == "channels_last":
        sample = sample.contiguous(memory_format=torch.channels_last_3d)
    autocast = torch.autocast("cpu", dtype=torch.bfloat16) if mode == "bf16 autocast" else nullcontext()
    cache = DeepCache(unet, cache_interval=3, cache_branch_id=0) if mode == "DeepCache" else nullcontext()
    kernel = sdpa_kernel(SDPBackend.MATH) if mode == "SDPA math" else nullcontext()
    with torch.no_grad(), autocast, cache, kernel:
        if mode == "compile" or sum(p.numel() for p in unet.parameters()) < 100_000_000:
            started = time.perf_counter()  # the full-size one warms up on step 0; compile compiles here
            _call(unet, sample, TIMESTEPS[0], audio, mode)  # not timed
            logger.info("%s: warm-up call %.1f s", mode, time.perf_counter() - started)
            if isinstance(cache, DeepCache):
                cache.reset()
        start = time.perf_counter()
        for t in TIMESTEPS[:steps]:
            out = _call(unet, sample, t, audio, mode)
            sample = sample.clone()
            sample[:, :4] -= 0.01 * out.float()
    return 1000 * (time.perf_counter() - start) / steps / chunks


def profile_step(unet: UNet3DConditionModel, size: int) -> dict[str, tuple[int, float]]:
    """Calls and self seconds of the convolution and copy kernels in one float32 step."""
    sample, audio = _inputs(unet.config.in_channels, size)
    with torch.no_grad(), profile(activities=[ProfilerActivity.CPU]) as prof:
        unet(sample, TIMESTEPS[0], audio)
    totals = {label: (0, 0.0) for label in PROFILED.values()}
    for event in prof.key_averages():
        if event.key in PROFILED:
            totals[PROFILED[event.key]] = (event.count, event.self_cpu_time_total / 1e6)
    return totals


def compiled_difference(compiled: UNet3DConditionModel, eager: UNet3DConditionModel, size: int) -> float:
    """Largest |compiled - eager| of one call on the same inputs (the compiled graph is reused)."""
    sample, audio = _inputs(eager.config.in_channels, size)
    with torch.no_grad():
        return (
            (_call(compiled, sample, TIMESTEPS[0], audio, "") - _call(eager, sample, TIMESTEPS[0], audio, ""))
            .abs()
            .max()
            .item()
        )


def _run_row(name: str, build: Callable[[], UNet3DConditionModel], size: int, steps: int, modes) -> list[str]:
    unet = build()
    cells = []
    for mode in modes:
        if mode == "channels_last":
            unet = unet.to(memory_format=torch.channels_last)
        elif mode == "compile":
            unet = compile_unet(build())  # a fresh, contiguous copy
        elif unet.conv_in.weight.is_contiguous(memory_format=torch.channels_last):
            unet = build()  # later columns compare with the plain layout
        try:
            value = ms_per_step(unet, size, steps, mode)
            cells.append(f"{value:.0f}")
            if mode == "compile":
                logger.info(
                    "%s %dx%d compile: max |compiled - eager| %.2e",
                    name,
                    size,
                    size,
                    compiled_difference(unet, build(), size),
                )
            logger.info("%s %dx%d %s: %.0f ms/step", name, size, size, mode, value)
        except RuntimeError as exc:  # e.g. a dtype/layout the CPU kernels lack
            cells.append("n/a")
            logger.warning("%s %s failed: %s", name, mode, exc)
    del unet
    gc.collect()
    return cells


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="tiny UNet at 16x16 only")
    parser.add_argument("--steps", type=int, default=3, help="denoising steps averaged per cell (<= 6)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch default)")
    parser.add_argument("--models", nargs="+", choices=("tiny", "stage2_512"), default=("tiny", "stage2_512"))
    parser.add_argument("--sizes", nargs="+", type=int, default=(16, 64), help="latent sizes")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=DEFAULT_MODES)
    parser.add_argument("--profile", action="store_true", help="also profile one float32 step per row")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.threads:
        torch.set_num_threads(args.threads)
    steps = max(1, min(args.steps, len(TIMESTEPS)))
    modes = tuple(m for m in MODES if m in args.modes)

    def tiny() -> UNet3DConditionModel:
        return load_unet(golden.golden_json("unet_tiny.config.json"), unet_state("unet_tiny"))

    def full() -> UNet3DConditionModel:
        return load_unet("stage2_512", unet_state("unet_stage2"))

    builders = {"tiny": tiny, "stage2_512": full}
    if args.quick:
        args.models, args.sizes = ("tiny",), (16,)
    rows = [(name, builders[name], size) for name in args.models for size in args.sizes]
    table, profiles = [], []
    for name, build, size in rows:
        table.append((name, f"{size}x{size}", _run_row(name, build, size, steps, modes)))
        if args.profile:
            unet = build()
            profiles.append((name, f"{size}x{size}", profile_step(unet, size)))
            del unet
            gc.collect()

    header = f"{'UNet':<11} {'latent':<7} " + " ".join(f"{m:>14}" for m in modes)
    print(
        f"ms per UNet step ({FRAMES} frames, CFG batch 2, mean of {steps} steps, {torch.get_num_threads()} threads)"
    )
    print(header)
    print("-" * len(header))
    for name, size, cells in table:
        print(f"{name:<11} {size:<7} " + " ".join(f"{c:>14}" for c in cells))
    if profiles:
        print("\none float32 step, self time of the kernels (calls, s)")
        print(f"{'UNet':<11} {'latent':<7} " + " ".join(f"{label:>18}" for label in PROFILED.values()))
        for name, size, totals in profiles:
            cells = [f"{calls} / {seconds:.2f} s" for calls, seconds in totals.values()]
            print(f"{name:<11} {size:<7} " + " ".join(f"{c:>18}" for c in cells))


if __name__ == "__main__":
    main()
