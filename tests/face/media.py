"""Frames of the golden demo video for the face tests."""

from __future__ import annotations

from functools import lru_cache

import av
import numpy as np

from tests.helpers.golden import MEDIA, reference


@lru_cache(maxsize=1)
def demo1_frames(count: int = 3) -> tuple[np.ndarray, ...]:
    """The first ``count`` RGB frames of demo1_video.mp4 (1080x1920, HEVC), decoded with PyAV."""
    frames = []
    with av.open(str(MEDIA / "demo1_video.mp4")) as container:
        for frame in container.decode(video=0):
            frames.append(frame.to_ndarray(format="rgb24"))
            if len(frames) == count:
                break
    return tuple(frames)


@lru_cache(maxsize=1)
def align_reference() -> dict[str, np.ndarray]:
    return {name: tensor.numpy() for name, tensor in reference("align_restore").items()}
