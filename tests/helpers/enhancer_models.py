"""Deterministic-weight checkpoints of the enhancer architectures (GFPGAN, CodeFormer, a small SR net).

Each module is built with the architecture classes spandrel ships (their state-dict keys are the
published checkpoints'), every parameter is filled with the project's ``tests.helpers.detweights`` rule from its
key and shape, buffers keep their initial values, and the state dict is saved as a ``.pth`` file
that the product then loads by path through spandrel's architecture detection.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest
import torch

from tests.helpers.detweights import deterministic_tensor


def _spandrel_imports() -> bool:
    if importlib.util.find_spec("spandrel") is None:
        return False
    try:
        import spandrel  # noqa: F401  (its package imports torchvision)
    except ImportError:
        return False
    return True


def needs_spandrel(test):
    """Marks an enhancer test ``enhance``: ./test.sh runs those in .venv-enhance, where spandrel
    must import (there a broken spandrel fails the test). Elsewhere, without spandrel, it is skipped:
    spandrel imports torchvision, which has no build for the CPU torch of the main venv."""
    must_run = os.environ.get("LATENTSYNC_TEST_SPLIT") == "enhance"
    skip = pytest.mark.skipif(
        not must_run and not _spandrel_imports(),
        reason="spandrel (the 'enhance' extra) does not import here: it needs torchvision, which has no "
        "build for this CPU torch; ./test.sh runs it in .venv-enhance unless LATENTSYNC_TEST_ENHANCE=0",
    )
    return pytest.mark.enhance(skip(test))


def deterministic_state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    params = {name for name, _ in module.named_parameters()}
    return {
        key: deterministic_tensor(key, value.shape) if key in params else value.clone()
        for key, value in module.state_dict().items()
    }


def write_gfpgan(path: Path) -> Path:
    from spandrel.architectures.GFPGAN import GFPGAN

    torch.save(deterministic_state(GFPGAN()), path)
    return path


def write_codeformer(path: Path) -> Path:
    from spandrel_extra_arches.architectures.CodeFormer import CodeFormer

    torch.save(deterministic_state(CodeFormer()), path)
    return path


def write_small_sr(path: Path, upscale: int = 2) -> Path:
    """A Real-ESRGAN "Compact" (SRVGGNet) x``upscale`` net, 8 features, 2 convolutions: milliseconds per crop."""
    from spandrel.architectures.Compact import Compact

    torch.save(deterministic_state(Compact(num_feat=8, num_conv=2, upscale=upscale)), path)
    return path
