"""Reading checkpoint files and loading them strictly, with errors a user can act on."""

from __future__ import annotations

import logging
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import TypeVar

import torch
from torch import nn

from latentsync.errors import CheckpointError, InputError

logger = logging.getLogger(__name__)

_SHOW = 5  # keys listed per category in a mismatch message
M = TypeVar("M", bound=nn.Module)


def read_state_file(path: str | Path, nested_keys: tuple[str, ...] = ("state_dict",)) -> tuple[dict, dict]:
    """Tensors and metadata from a ``.pt``/``.pth``/``.ckpt`` or ``.safetensors`` file.

    The published ``.pt`` files wrap the tensors as ``{"state_dict": ..., "global_step": N}``;
    a bare state dict works too. Pickles are read with ``weights_only=True``.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"checkpoint not found: {path}")
    if path.stat().st_size == 0:
        raise CheckpointError(f"checkpoint is empty (0 bytes): {path}")
    try:
        if path.suffix == ".safetensors":
            from safetensors import safe_open

            with safe_open(str(path), framework="pt") as f:
                tensors = {k: f.get_tensor(k) for k in f.keys()}
                meta = dict(f.metadata() or {})
            return tensors, meta
        obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, OSError, zipfile.BadZipFile, ValueError) as exc:
        raise CheckpointError(
            f"cannot read checkpoint {path} (truncated or not a checkpoint?): {exc}"
        ) from exc
    except Exception as exc:  # safetensors/pickle raise assorted types for corrupt files
        raise CheckpointError(f"cannot read checkpoint {path}: {type(exc).__name__}: {exc}") from exc
    if not isinstance(obj, Mapping):
        raise CheckpointError(f"checkpoint {path} holds a {type(obj).__name__}, not a state dict")
    for key in nested_keys:
        if key in obj and isinstance(obj[key], Mapping):
            meta = {k: v for k, v in obj.items() if k != key}
            return dict(obj[key]), meta
    return dict(obj), {}


def describe_mismatch(model: nn.Module, state: Mapping[str, torch.Tensor]) -> tuple[list, list, list]:
    """Missing, unexpected and wrong-shape keys of ``state`` against ``model``."""
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    wrong = [
        (k, tuple(state[k].shape), tuple(own[k].shape))
        for k in own
        if k in state and tuple(state[k].shape) != tuple(own[k].shape)
    ]
    return missing, unexpected, wrong


def _listing(title: str, items: list) -> str:
    if not items:
        return ""
    shown = ", ".join(str(i) for i in items[:_SHOW])
    more = f" (+{len(items) - _SHOW} more)" if len(items) > _SHOW else ""
    return f"{len(items)} {title}: {shown}{more}"


def load_strict(
    model: nn.Module,
    state: Mapping[str, torch.Tensor],
    source: str,
    hint: str | None = None,
    optional_missing: tuple[str, ...] = (),
) -> None:
    """``load_state_dict(strict=True)`` with one readable error listing what does not fit.

    ``optional_missing``: key suffixes the model may compute itself (e.g. non-persistent
    positional tables) when a checkpoint omits them.
    """
    missing, unexpected, wrong = describe_mismatch(model, state)
    tolerated = [k for k in missing if k.endswith(optional_missing)] if optional_missing else []
    missing = [k for k in missing if k not in tolerated]
    if missing or unexpected or wrong:
        parts = [
            p
            for p in (
                _listing("missing keys", missing),
                _listing("unexpected keys", unexpected),
                _listing("wrong-shape keys (checkpoint vs model)", wrong),
            )
            if p
        ]
        message = f"{source} does not fit {type(model).__name__}: " + "; ".join(parts)
        if hint:
            message += f". Hint: {hint}"
        raise CheckpointError(message)
    if tolerated:
        merged = dict(model.state_dict())
        merged.update(state)
        state = merged
    model.load_state_dict(state, strict=True)


def load_weights(
    model: M, path: str | Path, what: str, hint: str | None = None, device: str | torch.device = "cpu"
) -> M:
    """``model`` with the state dict in ``path`` loaded strictly, on ``device``, in eval mode; ``what``
    names the weights in the error (``{what} checkpoint {path} does not fit ...``) and the log."""
    state, _ = read_state_file(path)
    load_strict(model, state, f"{what} checkpoint {path}", hint=hint)
    logger.info("loaded %s weights from %s", what, path)
    return model.to(device).eval()
