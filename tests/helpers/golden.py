"""Access to ../shared/golden (fixtures of the original implementation) for tests and benchmarks."""

from __future__ import annotations

import importlib.util
import json
import os
from functools import lru_cache
from pathlib import Path

import torch
from safetensors.torch import load_file

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("LATENTSYNC_SHARED", REPO.parent / "shared"))
GOLDEN = SHARED / "golden"
MEDIA = SHARED / "media"


@lru_cache(maxsize=1)
def detweights():
    """The golden ``detweights`` module (deterministic weights from key names and shapes)."""
    spec = importlib.util.spec_from_file_location("detweights", GOLDEN / "detweights.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def schema(name: str) -> dict:
    """``name`` like ``unet_tiny`` -> the parsed ``unet_tiny.schema.json``."""
    return json.loads((GOLDEN / f"{name}.schema.json").read_text())


def fill(name: str) -> dict[str, torch.Tensor]:
    """Deterministic parameters (no buffers) for a schema."""
    return detweights().fill_params(schema(name))


def reference(name: str) -> dict[str, torch.Tensor]:
    """Tensors of a golden ``.safetensors`` file, by file stem."""
    return load_file(str(GOLDEN / f"{name}.safetensors"))


def golden_json(name: str) -> dict:
    return json.loads((GOLDEN / name).read_text())


def assert_close_ref(actual: torch.Tensor, ref: torch.Tensor, rtol_scale: float = 1e-3) -> float:
    """The golden tolerance: max abs diff <= 1e-3 * max(1, max|ref|). Returns the diff."""
    actual = actual.detach().float().cpu()
    ref = ref.float()
    assert actual.shape == ref.shape, f"shape {tuple(actual.shape)} != reference {tuple(ref.shape)}"
    diff = (actual - ref).abs().max().item()
    bound = rtol_scale * max(1.0, ref.abs().max().item())
    assert diff <= bound, f"max abs diff {diff:.3e} > {bound:.3e}"
    return diff


def assert_uint8_close(actual, ref, mean_tol: float = 0.5, max_tol: float = 3) -> None:
    """The golden tolerance for images: mean abs diff <= 0.5 and max <= 3."""
    a = torch.as_tensor(actual).to(torch.int16)
    r = torch.as_tensor(ref).to(torch.int16)
    assert a.shape == r.shape, f"shape {tuple(a.shape)} != reference {tuple(r.shape)}"
    d = (a - r).abs().float()
    assert d.mean().item() <= mean_tol and d.max().item() <= max_tol, (
        f"mean abs diff {d.mean().item():.3f}, max {d.max().item():.0f}"
    )
