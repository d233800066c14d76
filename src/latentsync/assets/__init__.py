"""Media shipped inside the package (so ``latentsync demo`` works from a wheel, with no checkout)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from latentsync.errors import InputError

DEMO_VIDEO_NAME = "demo1_video.mp4"
DEMO_AUDIO_NAME = "demo1_audio.wav"


def asset_path(name: str) -> Path:
    """Filesystem path of a bundled file (the package is installed unzipped, as pip does)."""
    path = Path(str(files(__name__) / name))
    if not path.is_file():
        raise InputError(f"bundled file {name} is missing from {path.parent}: reinstall latentsync")
    return path


def demo_video() -> Path:
    """The LatentSync demo clip (one speaker facing the camera); attribution in ``NOTICE``."""
    return asset_path(DEMO_VIDEO_NAME)


def demo_audio() -> Path:
    """The LatentSync demo speech (16 kHz mono WAV) the demo clip is lip-synced to."""
    return asset_path(DEMO_AUDIO_NAME)
