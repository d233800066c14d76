"""``--enhancer``: spandrel-loaded restorers on the generated crop (deterministic-weight checkpoints)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from latentsync import weights
from latentsync.errors import ConfigError, MissingWeightsError
from latentsync.face.enhancer import FaceEnhancer, enhancer_path, paste_size
from tests.foundation.test_weights import _cli
from tests.helpers.enhancer_models import needs_spandrel, write_small_sr
from tests.helpers.fake_hub import fake_hub

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def small_sr(tmp_path_factory) -> Path:
    return write_small_sr(tmp_path_factory.mktemp("sr") / "compact_x2.pth", upscale=2)


def _faces(n: int = 2, size: int = 64) -> torch.Tensor:
    return torch.linspace(-1, 1, n * 3 * size * size).reshape(n, 3, size, size).sin()


@needs_spandrel
def test_restore_keeps_the_crop_aspect_and_the_model_scale(small_sr):
    out = FaceEnhancer(small_sr).restore(_faces(), crop_width=420, crop_height=560)
    assert out.shape == (2, 3, 1024, 768)  # 512 high at 420:560, times the net's x2
    assert out.min() >= -1 and out.max() <= 1


@needs_spandrel
def test_strength_blends_generated_and_restored(small_sr):
    faces = _faces()
    full = FaceEnhancer(small_sr, strength=1.0).restore(faces, 420, 560)
    none = FaceEnhancer(small_sr, strength=0.0).restore(faces, 420, 560)
    half = FaceEnhancer(small_sr, strength=0.5).restore(faces, 420, 560)
    upright = F.interpolate(
        faces, size=(512, 384), mode="bicubic", antialias=True, align_corners=False
    ).clamp(-1, 1)
    expected_none = F.interpolate(upright, size=(1024, 768), mode="bicubic", align_corners=False).clamp(-1, 1)
    assert torch.allclose(none, expected_none, atol=1e-5)
    assert (full - none).abs().mean() > 0.05  # the restorer really changed the face
    inside = (full.abs() < 0.99) & (none.abs() < 0.99)  # away from the clamp
    assert torch.allclose(half[inside], ((full + none) / 2)[inside], atol=1e-4)


def test_paste_size_is_the_crop_in_the_frame_never_smaller():
    affine = np.array([[0.5, 0.0, -10.0], [0.0, 0.5, -20.0]])  # the crop covers twice its size in the frame
    assert paste_size(420, 560, affine) == (840, 1120)
    assert paste_size(420, 560, affine * 4) == (420, 560)


@needs_spandrel
def test_bad_enhancer_values_are_config_errors(tmp_path, small_sr):
    with pytest.raises(ConfigError, match="not a file"):
        enhancer_path(str(tmp_path / "nope.pth"))
    junk = tmp_path / "junk.pth"
    torch.save({"some.weight": torch.zeros(3)}, junk)
    with pytest.raises(ConfigError, match="spandrel"):
        FaceEnhancer(junk)
    with pytest.raises(ConfigError, match="between 0 and 1"):
        FaceEnhancer(small_sr, strength=1.5)


def test_named_enhancer_missing_offline_is_one_line_with_the_fix(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LATENTSYNC_CHECKPOINTS", raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(MissingWeightsError) as info:
        enhancer_path("gfpgan")
    message = str(info.value)
    assert "\n" not in message and "latentsync download --enhancer gfpgan" in message


def test_download_enhancer_from_stand_in_hub_then_resolves_offline(tmp_path):
    spec = weights.enhancer_file("codeformer")
    body = b"codeformer-bytes" * 100
    with fake_hub({f"{spec.repo_id}/{spec.filename}": body}) as (endpoint, log):
        env = {"HF_ENDPOINT": endpoint, "HF_HUB_CACHE": str(tmp_path / "cache"), "HF_HUB_DISABLE_XET": "1"}
        result = _cli(
            ["download", "--enhancer", "codeformer", "--dir", str(tmp_path / "ckpt")], env, tmp_path
        )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "ckpt" / spec.filename).read_bytes() == body
    assert any(f"/{spec.repo_id}/resolve/" in r for r in log)
    assert not any("LatentSync" in r for r in log)  # only the enhancer was fetched

    code = "from latentsync.face.enhancer import enhancer_path; print(enhancer_path('codeformer', allow_download=False))"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "LATENTSYNC_"))}
    env.update(
        {
            "HF_HUB_OFFLINE": "1",
            "HF_HUB_CACHE": str(tmp_path / "empty"),
            "LATENTSYNC_CHECKPOINTS": str(tmp_path / "ckpt"),
        }
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert Path(out.stdout.strip()) == tmp_path / "ckpt" / spec.filename
