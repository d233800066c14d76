"""The golden fixtures in ``tests/fixtures/golden``: the original implementation's outputs.

Reference tensors are stored compactly but exactly (see ``tests/fixtures/README.md``):
``<stem>.npz`` holds most arrays as they are; ``manifest.json`` lists every array with its
SHA-256 and, for a few, the recipe that rebuilds it bit for bit (a seeded Gaussian input, a
frame stored as its difference from another, integer floats stored as int16).
"""

from __future__ import annotations

import hashlib
import json
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
import torch

from tests.helpers.detweights import deterministic_params

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
GOLDEN = FIXTURES / "golden"
MEDIA = FIXTURES / "media"


def digest(array: np.ndarray) -> str:
    """SHA-256 of an array's dtype, shape and bytes: equal digests mean identical values."""
    array = np.ascontiguousarray(array)
    h = hashlib.sha256(f"{array.dtype.str}{array.shape}".encode())
    h.update(array.tobytes())
    return h.hexdigest()


@cache
def _stored(folder: Path, stem: str) -> dict[str, np.ndarray]:
    with np.load(folder / f"{stem}.npz") as archive:
        return {key: archive[key] for key in archive.files}


def _seeded_normal(entry: dict) -> np.ndarray:
    generator = torch.Generator().manual_seed(int(entry["randn_seed"]))
    return torch.randn(entry["shape"], generator=generator, dtype=torch.float32).numpy()


def rebuild_array(stem: str, key: str, entry: dict, folder: Path = GOLDEN) -> np.ndarray:
    """One reference array from its stored form and manifest entry."""
    stored = _stored(folder, stem)
    if "noisy_face" in entry:  # a generated face: the aligned crop in [-1, 1] plus seeded noise
        face = torch.from_numpy(stored[entry["noisy_face"]]).permute(2, 0, 1).float() / 127.5 - 1
        noise = torch.from_numpy(_seeded_normal(entry))
        return (face + entry["sigma"] * noise).clamp(-1, 1).numpy()
    if "randn_seed" in entry:
        return _seeded_normal(entry)
    if "delta_of" in entry:
        return stored[entry["delta_of"]] + stored[key]  # uint8 wrap-around undoes the stored difference
    return stored[key].astype(entry["dtype"])


@lru_cache(maxsize=1)
def manifest() -> dict:
    return json.loads((GOLDEN / "manifest.json").read_text())


def reference(name: str) -> dict[str, torch.Tensor]:
    """Tensors of one golden reference file, by stem (e.g. ``unet_tiny.forward``)."""
    return {
        key: torch.from_numpy(np.array(rebuild_array(name, key, entry)))
        for key, entry in manifest()[name].items()
    }


def schema(name: str) -> dict:
    """``name`` like ``unet_tiny`` -> the parsed ``unet_tiny.schema.json``."""
    return json.loads((GOLDEN / f"{name}.schema.json").read_text())


def fill(name: str) -> dict[str, torch.Tensor]:
    """Deterministic parameters (no buffers) for a schema."""
    return deterministic_params(schema(name))


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
