"""Recognising out-of-memory on any device and naming the stage it happened in.

CUDA raises ``torch.OutOfMemoryError``, MPS a ``RuntimeError`` ("MPS backend out of memory"),
the CPU allocator a ``RuntimeError`` ("can't allocate memory") or Python's ``MemoryError``. Each
guarded stage turns any of them into :class:`latentsync.errors.OutOfMemory`, which the CLI prints
as one line (exit 2) and the app shows as the same sentence.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import torch

from latentsync.errors import OutOfMemory

_GPU_MESSAGES = ("cuda out of memory", "mps backend out of memory", "hip out of memory", "xpu out of memory")
_HOST_MESSAGES = ("can't allocate memory", "cannot allocate memory", "defaultcpuallocator")


def oom_memory_kind(exc: BaseException) -> str | None:
    """'GPU' or 'host' when ``exc`` is an out-of-memory error, else None."""
    if isinstance(exc, torch.OutOfMemoryError):
        return "GPU"
    if isinstance(exc, MemoryError):
        return "host"
    if isinstance(exc, RuntimeError):
        text = str(exc).lower()
        if any(m in text for m in _GPU_MESSAGES):
            return "GPU"
        if any(m in text for m in _HOST_MESSAGES):
            return "host"
    return None


def as_out_of_memory(exc: BaseException, stage: str) -> OutOfMemory | None:
    """``exc`` as an :class:`OutOfMemory` at ``stage`` (an existing one keeps its stage), or None."""
    if isinstance(exc, OutOfMemory):
        return exc
    kind = oom_memory_kind(exc)
    return OutOfMemory(stage, kind) if kind else None


@contextmanager
def memory_stage(stage: str) -> Iterator[None]:
    """Re-raise an out-of-memory inside the block as :class:`OutOfMemory` naming ``stage``."""
    try:
        yield
    except OutOfMemory:
        raise
    except (MemoryError, RuntimeError) as exc:  # torch.OutOfMemoryError is a RuntimeError
        oom = as_out_of_memory(exc, stage)
        if oom is None:
            raise
        raise oom from exc


def host_available_bytes() -> int | None:
    """MemAvailable from /proc/meminfo (Linux), else free physical pages, else None."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def device_free_bytes(device: torch.device) -> int | None:
    """Memory this process could use on ``device``: free on the card plus what torch already caches
    for us (our own models and blocks are reusable by the run)."""
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        return int(free + torch.cuda.memory_reserved(device))
    if device.type == "mps":
        recommended = getattr(torch.mps, "recommended_max_memory", None)
        if recommended is None:
            return None
        return int(recommended() - torch.mps.driver_allocated_memory() + torch.mps.current_allocated_memory())
    return host_available_bytes()
