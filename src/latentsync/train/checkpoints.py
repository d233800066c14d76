"""Training checkpoints: the published ``{"state_dict", "global_step"}`` file that ``infer`` and
``load_unet`` read, plus a sidecar with optimizer, LR scheduler, loss history and RNG states so a
resumed run continues exactly where it stopped."""

from __future__ import annotations

import logging
import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from latentsync.errors import CheckpointError
from latentsync.models.checkpoint_io import read_state_file

logger = logging.getLogger(__name__)


def checkpoint_path(output_dir: str | Path, step: int) -> Path:
    return Path(output_dir) / "checkpoints" / f"checkpoint-{step}.pt"


def sidecar_path(checkpoint: str | Path) -> Path:
    """``checkpoint-100.pt`` -> ``checkpoint-100.state.pt``."""
    checkpoint = Path(checkpoint)
    return checkpoint.with_name(checkpoint.stem + ".state.pt")


def _atomic_save(obj: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    try:
        torch.save(obj, partial)
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise CheckpointError(f"cannot write checkpoint {path}: {exc}") from exc


def rng_state() -> dict[str, Any]:
    """Every RNG's state in types ``torch.load(weights_only=True)`` accepts (no numpy arrays)."""
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return {
        "python": random.getstate(),
        "numpy": (
            str(name),
            torch.from_numpy(keys.astype(np.int64)),
            int(pos),
            int(has_gauss),
            float(cached),
        ),
        "torch": torch.get_rng_state(),
        # this process's own device only: under DDP/FSDP each rank drives one GPU, and writing every
        # device's state from rank 0 would hand rank 0's streams to the others on resume
        "cuda": torch.cuda.get_rng_state() if torch.cuda.is_available() else None,
    }


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    name, keys, pos, has_gauss, cached = state["numpy"]
    keys = (
        keys.numpy().astype(np.uint32)
        if isinstance(keys, torch.Tensor)
        else np.asarray(keys, dtype=np.uint32)
    )
    np.random.set_state((name, keys, pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    cuda = state.get("cuda")
    if isinstance(cuda, (list, tuple)):  # older sidecars kept every device: take ours
        cuda = cuda[torch.cuda.current_device()] if torch.cuda.is_available() and cuda else None
    if cuda is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state(cuda)


def save_checkpoint(
    path: str | Path,
    model_state: dict[str, torch.Tensor],
    global_step: int,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler: Any = None,
    history: dict[str, list] | None = None,
) -> Path:
    """The published model file, and (with an optimizer) the resume sidecar beside it."""
    path = Path(path)
    state = {k: v.detach().cpu().contiguous() for k, v in model_state.items()}
    _atomic_save({"state_dict": state, "global_step": int(global_step)}, path)
    if optimizer is not None:
        sidecar = {
            "global_step": int(global_step),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict() if scheduler is not None else None,
            "history": history or {},
            "rng": rng_state(),
        }
        _atomic_save(sidecar, sidecar_path(path))
    logger.info("saved checkpoint %s (global_step %d)", path, global_step)
    return path


def load_checkpoint(path: str | Path) -> tuple[dict[str, torch.Tensor], int, dict[str, Any] | None]:
    """Model state, ``global_step`` and the sidecar (None for a published or foreign checkpoint)."""
    state, meta = read_state_file(path)
    step = meta.get("global_step", 0)
    step = int(step.item() if isinstance(step, torch.Tensor) else step)
    sidecar = None
    side = sidecar_path(path)
    if side.is_file():
        try:
            sidecar = torch.load(side, map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - a broken sidecar only loses exact resume
            logger.warning("ignoring unreadable resume state %s (%s): optimizer starts fresh", side, exc)
    return state, step, sidecar
