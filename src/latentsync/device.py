"""Picking the device and dtype a run uses, and checking a ``--device`` before any work starts.

The one place that asks torch which accelerators this machine has: inference, batch workers,
training and data preprocessing all pick through it.
"""

from __future__ import annotations

import re

import torch

from latentsync.errors import ConfigError

_DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}
_DEVICE = re.compile(r"^(auto|cpu|mps|cuda)(?::(\d+))?$")
DEVICE_HELP = "auto, cpu, cuda, cuda:N or mps"


def _mps_available() -> bool:
    return getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()


def cuda_count() -> int:
    """How many CUDA devices this torch sees (0 on a CPU-only build)."""
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def pick_device(name: str = "auto") -> torch.device:
    """The torch device for ``name`` (auto, cpu, cuda, cuda:N, mps); ConfigError when absent here."""
    name = str(name).strip().lower()
    match = _DEVICE.match(name)
    if match is None or (match.group(2) is not None and match.group(1) != "cuda"):
        raise ConfigError(f"unknown device {name!r}: use {DEVICE_HELP}")
    kind, index = match.group(1), match.group(2)
    if kind == "auto":
        if cuda_count():
            return torch.device("cuda")
        return torch.device("mps") if _mps_available() else torch.device("cpu")
    if kind == "cuda":
        count = cuda_count()
        if count == 0:
            raise ConfigError(
                f"--device {name} asked for, but this torch has no CUDA device (install a CUDA build of torch)"
            )
        if index is not None and int(index) >= count:
            raise ConfigError(f"--device {name} asked for, but this machine has {count} CUDA device(s)")
    if kind == "mps" and not _mps_available():
        raise ConfigError(f"--device {name} asked for, but MPS is not available here")
    return torch.device(name)


def local_devices(spec: str, workers: int | None = None) -> list[str]:
    """The device of each local worker: ``auto`` = every CUDA GPU (else CPU ``workers`` times), or a
    comma list (``cuda:0,cuda:1``), each checked; ``workers`` more than listed reuses them in turn."""
    if spec.strip().lower() == "auto":
        names = [f"cuda:{i}" for i in range(cuda_count())] or ["mps" if _mps_available() else "cpu"]
    else:
        names = [part.strip().lower() for part in spec.split(",") if part.strip()]
        if not names:
            raise ConfigError(f"--devices {spec!r} names no device: use auto or a list like cuda:0,cuda:1")
        for name in names:
            pick_device(name)
    n = workers or len(names)
    return [names[i % len(names)] for i in range(n)]


def pick_dtype(name: str, device: torch.device) -> torch.dtype:
    """fp16 on CUDA by default; fp32 on CPU and MPS (MPS gives black frames in half precision)."""
    if name == "auto":
        return torch.float16 if device.type == "cuda" else torch.float32
    if name not in _DTYPES:
        raise ConfigError(f"unknown dtype {name!r}: use auto, fp16, bf16 or fp32")
    return _DTYPES[name]
