"""The memory estimate of a run as text: what ``infer --estimate`` prints and the app shows before Generate."""

from __future__ import annotations

from latentsync.errors import ConfigError
from latentsync.pipeline.estimate import GB, advice, estimate, memory_budget
from latentsync.pipeline.options import InferenceOptions


def estimate_report(options: InferenceOptions) -> str:
    """A settings line, the per-stage table ending in ``peak ~X GB``, and on CUDA the free memory."""
    budget = memory_budget(options)
    if budget.settings is None:
        raise ConfigError(f"cannot estimate memory for the UNet config {options.unet_config_name!r}")
    s = budget.settings
    result = estimate(s)
    lines = [
        f"LatentSync {options.model} ({s.unet_config}, {s.resolution} px), {s.dtype}"
        f"{f' autocast {s.autocast}' if s.autocast else ''}, batch-chunks {s.batch_chunks}, offload {s.offload}, "
        f"VAE slicing {'on' if s.vae_slicing else 'off'}, tiling {'on' if s.vae_tiling else 'off'}, on {s.device_type}",
        result.table(),
    ]
    if budget.device.type == "cuda" and budget.free_bytes is not None:
        free = budget.free_bytes
        fits = "fits" if result.peak <= free else "does not fit; try " + advice(s, free)
        lines.append(f"free on {budget.device}: {free / GB:.1f} GB: {fits}")
    return "\n".join(lines)
