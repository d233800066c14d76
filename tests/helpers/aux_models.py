"""Deterministic stand-ins for the auxiliary checkpoints, written in their published file formats.

``stable_syncnet.pt`` ({"state_dict", "global_step"}, layout 16_pixel_attn, ~1.6 GB),
``syncnet_v2.model``, ``sfd_face.pth`` and ``koniq_pretrained.pkl`` (plain state dicts).
Parameters come from the golden ``detweights``; BatchNorm buffers are the defaults the golden
forwards were computed with (running_mean 0, running_var 1, num_batches_tracked 0).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import torch

from tests.helpers import golden

AUX_FILES = {
    "stable_syncnet": ("stable_syncnet_16_pixel_attn", "stable_syncnet.pt"),
    "syncnet_v2": ("syncnet_v2", "syncnet_v2.model"),
    "s3fd": ("s3fd", "sfd_face.pth"),
    "hyperiqa": ("hyperiqa_koniq", "koniq_pretrained.pkl"),
}


def default_buffer(key: str, shape: list[int]) -> torch.Tensor:
    """A freshly initialised BatchNorm buffer."""
    if key.endswith("running_var"):
        return torch.ones(shape)
    if key.endswith("num_batches_tracked"):
        return torch.zeros(shape, dtype=torch.long)
    if key.endswith("running_mean"):
        return torch.zeros(shape)
    raise KeyError(f"no default for buffer {key}")


def aux_state(schema_name: str) -> dict[str, torch.Tensor]:
    """detweights parameters plus default buffers for a golden schema."""
    state = golden.fill(schema_name)
    for key, info in golden.schema(schema_name).items():
        if info["kind"] == "buffer":
            state[key] = default_buffer(key, info["shape"])
    return state


def write_aux_models(out_dir: Path, include: Iterable[str] | None = None) -> dict[str, Path]:
    """Write the chosen checkpoints (default: all of ``AUX_FILES``) and return their paths by name."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    names = list(AUX_FILES) if include is None else list(include)
    paths = {}
    for name in names:
        schema_name, filename = AUX_FILES[name]
        state = aux_state(schema_name)
        path = out_dir / filename
        torch.save({"state_dict": state, "global_step": 0} if name == "stable_syncnet" else state, path)
        paths[name] = path
    return paths
