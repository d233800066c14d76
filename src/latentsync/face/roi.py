"""Integer frame rectangles around an affinely mapped crop, so face work costs O(face), not O(frame)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Roi:
    """Half-open pixel rectangle [x0, x1) x [y0, y1) inside a frame."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def empty(self) -> bool:
        return self.width <= 0 or self.height <= 0

    @property
    def slices(self) -> tuple[slice, slice]:
        return slice(self.y0, self.y1), slice(self.x0, self.x1)

    def grow(self, margin: int, frame_height: int, frame_width: int) -> Roi:
        return clipped_roi(
            self.x0 - margin, self.y0 - margin, self.x1 + margin, self.y1 + margin, frame_height, frame_width
        )


def clipped_roi(x0: float, y0: float, x1: float, y1: float, frame_height: int, frame_width: int) -> Roi:
    return Roi(
        max(0, int(np.floor(x0))),
        max(0, int(np.floor(y0))),
        min(frame_width, int(np.ceil(x1))),
        min(frame_height, int(np.ceil(y1))),
    )


def mapped_crop_roi(
    crop_to_frame: np.ndarray,
    crop_height: int,
    crop_width: int,
    margin: int,
    frame_height: int,
    frame_width: int,
) -> Roi:
    """Bounding box in the frame of a crop's pixel centres mapped by ``crop_to_frame`` [2,3], grown by
    ``margin`` and clipped to the frame (faces may leave the picture)."""
    corners = np.array(
        [[0, 0, 1], [crop_width - 1, 0, 1], [0, crop_height - 1, 1], [crop_width - 1, crop_height - 1, 1]],
        dtype=np.float64,
    )
    mapped = corners @ np.asarray(crop_to_frame, dtype=np.float64).T
    (x0, y0), (x1, y1) = mapped.min(axis=0), mapped.max(axis=0)
    # x1/y1 are inclusive pixel centres: +1 makes the rectangle half-open.
    return clipped_roi(x0 - margin, y0 - margin, x1 + 1 + margin, y1 + 1 + margin, frame_height, frame_width)


def shift_affine(affine: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """Affine whose source origin moved to (dx, dy): for sampling from a sub-image starting there."""
    shifted = np.asarray(affine, dtype=np.float64).copy()
    shifted[:, 2] += shifted[:, :2] @ np.array([dx, dy])
    return shifted


def translate_output(affine: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """Affine whose output is written to a sub-image starting at (dx, dy) of the full output."""
    moved = np.asarray(affine, dtype=np.float64).copy()
    moved[:, 2] -= (dx, dy)
    return moved
