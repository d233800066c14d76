"""Shared fixtures: golden data, media and tiny models in the published formats."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import golden
from tests.helpers.tiny_models import write_tiny_models

ENHANCE_MARK = "needs_spandrel"  # tests/helpers/enhancer_models.py: the decorator that marks ``enhance``


def _split() -> str:
    """``LATENTSYNC_TEST_SPLIT`` (set by ./test.sh): main (.venv), enhance (.venv-enhance) or all."""
    return os.environ.get("LATENTSYNC_TEST_SPLIT", "all")


def _has_enhance_tests(path: Path) -> bool:
    files = [path] if path.is_file() else path.rglob("test_*.py")
    return any(ENHANCE_MARK in f.read_text(encoding="utf-8", errors="replace") for f in files)


def pytest_ignore_collect(collection_path: Path, config):
    """In .venv-enhance (no app/data/train extras) only modules with enhancer tests are imported."""
    if _split() != "enhance":
        return None
    if collection_path.is_dir() or (
        collection_path.suffix == ".py" and collection_path.name.startswith("test_")
    ):
        return True if not _has_enhance_tests(collection_path) else None
    return None


def pytest_collection_modifyitems(config, items):
    """Each of ./test.sh's two runs keeps its own tests: ``enhance``-marked ones only in .venv-enhance.

    The main venv's run leaves them out instead of reporting them skipped: they run in the other.
    """
    if _split() not in ("main", "enhance"):
        return
    want_enhance = _split() == "enhance"
    keep = [item for item in items if (item.get_closest_marker("enhance") is not None) == want_enhance]
    kept = {id(item) for item in keep}
    dropped = [item for item in items if id(item) not in kept]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@pytest.fixture
def isolated(tmp_path, monkeypatch) -> Path:
    """No checkpoints dir, an empty HF cache, offline: a test finds only the weights it puts there."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LATENTSYNC_CHECKPOINTS", raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return tmp_path


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
