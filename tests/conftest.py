"""Shared fixtures: golden data, media and tiny models in the published formats."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import golden
from tests.helpers.tiny_models import write_tiny_models


@pytest.fixture(scope="session")
def golden_dir() -> Path:
    return golden.GOLDEN


@pytest.fixture(scope="session")
def media_dir() -> Path:
    return golden.MEDIA


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> Path:
    """A folder with unet_tiny.yaml/.pt, vae/, whisper_tiny.pt, syncnet_v2.model."""
    return write_tiny_models(tmp_path_factory.mktemp("tiny_models"))


@pytest.fixture(autouse=True)
def _own_face_cache(tmp_path_factory, monkeypatch):
    """Each test gets an empty face-track cache (the default one is the user's ~/.cache)."""
    monkeypatch.setenv("LATENTSYNC_FACE_CACHE", str(tmp_path_factory.mktemp("face_cache")))
