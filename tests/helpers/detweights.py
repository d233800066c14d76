"""The project's deterministic stand-in weights: a tensor computed from its state-dict key and shape.

The published checkpoints cannot be downloaded on test machines. Filling a model from nothing
but key names and shapes gives every implementation with the same layout the same weights, so
outputs can be compared with the original implementation's (``tests/fixtures/golden``). The
golden fixtures were computed with exactly this rule; any change to a value breaks them.

For each parameter, ``noise`` is ``torch.randn(shape)`` (float32) from a generator seeded with
the CRC-32 of the key's UTF-8 bytes, and the value is
  - ``noise / sqrt(fan_in)`` for 2-D and larger tensors (``fan_in`` = product of shape[1:]),
  - ``1 + 0.05 * noise`` for 1-D tensors whose key ends in ``.weight`` (norm scales),
  - ``0.05 * noise`` for every other 1-D or 0-D tensor (biases, scalars).
Buffers are never filled: the model keeps the ones it computes.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable, Mapping

import torch

NORM_SCALE_SPREAD = 0.05


def key_seed(key: str) -> int:
    return zlib.crc32(key.encode("utf-8"))


def deterministic_tensor(key: str, shape: Iterable[int]) -> torch.Tensor:
    dims = tuple(int(d) for d in shape)
    generator = torch.Generator().manual_seed(key_seed(key))
    noise = torch.randn(dims, generator=generator, dtype=torch.float32)
    if len(dims) >= 2:
        fan_in = max(math.prod(dims[1:]), 1)
        return noise / math.sqrt(fan_in)
    spread = NORM_SCALE_SPREAD * noise
    if len(dims) == 1 and key.endswith(".weight"):
        return spread + 1.0
    return spread


def deterministic_params(layout: Mapping[str, Mapping]) -> dict[str, torch.Tensor]:
    """``layout``: ``{key: {"shape": [...], "kind": "param" | "buffer"}}`` -> parameters only."""
    return {
        key: deterministic_tensor(key, info["shape"])
        for key, info in layout.items()
        if info.get("kind", "param") == "param"
    }
