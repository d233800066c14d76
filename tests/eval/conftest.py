"""Shared clips and deterministic auxiliary checkpoints for the eval tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.eval.clips import demo_clip
from tests.helpers.aux_models import write_aux_models


@pytest.fixture(scope="session")
def eval_aux(tmp_path_factory) -> Path:
    """Folder with syncnet_v2.model, sfd_face.pth and koniq_pretrained.pkl (detweights)."""
    folder = tmp_path_factory.mktemp("aux")
    write_aux_models(folder, include=["syncnet_v2", "s3fd", "hyperiqa"])
    return folder


@pytest.fixture(scope="session")
def short_clip(tmp_path_factory) -> Path:
    """20 frames (0.8 s) of demo1, face-centred and downscaled to 270x480, with its audio."""
    return demo_clip(tmp_path_factory.mktemp("clips") / "demo1_short.mp4", count=20)


@pytest.fixture
def isolated_weights(tmp_path, monkeypatch) -> Path:
    """No checkpoints dir, empty HF cache, offline: only what a test passes explicitly is found."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LATENTSYNC_CHECKPOINTS", raising=False)
    monkeypatch.setenv("LATENTSYNC_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    return tmp_path
