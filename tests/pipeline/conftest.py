"""Fixtures for end-to-end lip-sync runs with the tiny deterministic models."""

from __future__ import annotations

from pathlib import Path

import pytest

from latentsync.pipeline.model_loading import load_inference_models
from tests.helpers import media
from tests.helpers.tiny_models import tiny_model_args, tiny_options  # noqa: F401 - re-exported for the pipeline tests


@pytest.fixture(scope="session")
def media_dir_small(tmp_path_factory) -> Path:
    """clip.mp4: 40 frames 288x512 of demo1 at 25 fps; speech.wav: 1.6 s of demo1 speech (16 kHz mono)."""
    out = tmp_path_factory.mktemp("pipeline_media")
    media.write_video(out / "clip.mp4", media.demo_frames(40))
    media.write_audio(out / "speech.wav", media.demo_audio(1.6, start=2.0))
    return out


@pytest.fixture(scope="session")
def clip_700(tmp_path_factory) -> Path:
    """40 frames of demo1 at 700x700 (not a multiple of 16, nor of 128: the sizes where libx264's
    AVX-512 MB-tree kernel made repeated encodes differ), 25 fps."""
    return media.write_video(
        tmp_path_factory.mktemp("clip_700") / "clip700.mp4", media.demo_frames(40, (700, 700))
    )


@pytest.fixture(scope="session")
def tiny_inference_models(tiny_models, media_dir_small):
    opts = tiny_options(
        tiny_models, media_dir_small / "clip.mp4", media_dir_small / "speech.wav", media_dir_small / "x.mp4"
    )
    return load_inference_models(opts)
