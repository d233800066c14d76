"""What every face detector returns: a box, a score and the 3 points the aligner needs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass
class Face:
    """One detected face, in frame pixels.

    ``landmarks3`` [3,2] float32 are the points the aligner maps to its template: left eyebrow centre,
    right eyebrow centre (left/right as seen in the image), nose centre.
    """

    x1: float
    y1: float
    x2: float
    y2: float
    score: float
    landmarks3: np.ndarray
    landmarks: np.ndarray | None = None  # all points of the backend, if it has more

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        return self.x1, self.y1, self.x2, self.y2

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1

    @property
    def area(self) -> float:
        return max(0.0, self.width) * max(0.0, self.height)

    @property
    def centre(self) -> tuple[float, float]:
        return (self.x1 + self.x2) / 2, (self.y1 + self.y2) / 2


class FaceDetector(Protocol):
    def detect(self, frame_rgb: np.ndarray) -> list[Face]:
        """uint8 RGB frame [H,W,3] -> faces found (possibly none), in no guaranteed order."""
        ...


def box_iou(a: Face, b: Face) -> float:
    inter_w = min(a.x2, b.x2) - max(a.x1, b.x1)
    inter_h = min(a.y2, b.y2) - max(a.y1, b.y1)
    if inter_w <= 0 or inter_h <= 0:
        return 0.0
    inter = inter_w * inter_h
    union = a.area + b.area - inter
    return inter / union if union > 0 else 0.0
