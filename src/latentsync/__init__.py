"""LatentSync: audio-conditioned latent-diffusion lip-sync that streams any length and resolution."""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["LipSync", "__version__"]


def __getattr__(name: str):
    """``from latentsync import LipSync`` loads torch only then: ``import latentsync`` stays light (CLI --help)."""
    if name == "LipSync":
        from latentsync.api import LipSync

        return LipSync
    raise AttributeError(f"module 'latentsync' has no attribute {name!r}")
