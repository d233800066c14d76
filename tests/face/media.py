"""Frames of the golden demo video and the golden alignment for the face tests."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from tests.helpers import media
from tests.helpers.golden import reference


@lru_cache(maxsize=1)
def demo1_frames(count: int = 3) -> tuple[np.ndarray, ...]:
    """The first ``count`` RGB frames of demo1_video.mp4 at full size (1080x1920), decoded once."""
    return tuple(media.demo_frames(count, size=None))


@lru_cache(maxsize=1)
def align_reference() -> dict[str, np.ndarray]:
    return {name: tensor.numpy() for name, tensor in reference("align_restore").items()}
