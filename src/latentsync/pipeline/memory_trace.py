"""Peak activation memory of one model call, measured without a GPU and without allocating it.

The model is rebuilt with *fake* weights (``FakeTensorMode``: shapes and dtypes, no storage) on the
CPU device, and a dispatch mode adds up the bytes of every tensor storage the call creates while
it is alive. The CPU's fused attention (output + log-sum-exp, no n x n matrix) stands in for CUDA's
flash/memory-efficient kernels, which have the same footprint. What this does not see: the CUDA
context, cuDNN workspaces and allocator fragmentation (``estimate.CUDA_OVERHEAD_BYTES`` covers them).
"""

from __future__ import annotations

import gc
import logging
import threading
import weakref
from collections.abc import Callable

import torch
from torch._subclasses.fake_tensor import FakeTensorMode
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

logger = logging.getLogger(__name__)

_TRACE_LOCK = threading.Lock()  # dispatch modes are per thread, but one trace at a time is plenty


class _LiveBytes(TorchDispatchMode):
    """Sum of the storages created inside the mode that are still referenced; remembers the peak."""

    def __init__(self, existing: set[int]):
        super().__init__()
        self.existing = existing  # storages made before the call (weights): views of them cost nothing
        self.live: dict[int, int] = {}
        self.now = 0
        self.peak = 0

    def _release(self, key: int) -> None:
        self.now -= self.live.pop(key, 0)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for tensor in tree_flatten(out)[0]:
            if not isinstance(tensor, torch.Tensor):
                continue
            storage = tensor.untyped_storage()
            key = storage._cdata
            if key in self.live or key in self.existing:
                continue
            size = storage.nbytes()
            self.live[key] = size
            self.now += size
            weakref.finalize(storage, self._release, key)
        self.peak = max(self.peak, self.now)
        return out


def fake_weights(module: torch.nn.Module, mode: FakeTensorMode, dtype: torch.dtype) -> torch.nn.Module:
    """Replace every parameter and buffer of ``module`` (built on ``meta``) by a fake CPU tensor;
    floating ones take ``dtype``."""
    with mode:
        for sub in module.modules():
            for table in (sub._parameters, sub._buffers):
                for name, value in table.items():
                    if value is None:
                        continue
                    kind = dtype if value.is_floating_point() else value.dtype
                    fake = torch.empty(value.shape, dtype=kind, device="cpu")
                    table[name] = (
                        torch.nn.Parameter(fake, requires_grad=False) if table is sub._parameters else fake
                    )
    return module


def peak_call_bytes(build: Callable[[], torch.nn.Module], call: Callable, dtype: torch.dtype) -> int:
    """Peak bytes of tensors created by ``call(module, mode)`` (weights and inputs made before not counted).

    ``build`` makes the module on the ``meta`` device; ``call`` creates its inputs (inside the fake
    mode) and runs the module.
    """
    with _TRACE_LOCK:
        with torch.device("meta"):
            module = build()
        mode = FakeTensorMode()
        fake_weights(module.eval(), mode, dtype)
        weights = [*module.parameters(), *module.buffers()]
        tracker = _LiveBytes({t.untyped_storage()._cdata for t in weights})
        with torch.no_grad(), mode, tracker:
            call(module, mode)
        del module
        gc.collect()
        return tracker.peak


def parameter_bytes(build: Callable[[], torch.nn.Module], dtype: torch.dtype) -> int:
    """Bytes of the module's parameters and buffers at ``dtype`` (built on ``meta``: no memory)."""
    with torch.device("meta"):
        module = build()
    tensors = list(module.parameters()) + list(module.buffers())
    return sum(
        t.numel() * (torch.finfo(dtype).bits // 8 if t.is_floating_point() else t.element_size())
        for t in tensors
    )
