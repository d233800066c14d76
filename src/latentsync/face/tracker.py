"""Keeps the lip-sync on one person: picks the main face once, then follows it frame to frame.

Picking the largest face on every frame (as the original does) lets a second person walking closer
steal the mouth; following by overlap avoids that.
"""

from __future__ import annotations

import logging
import math

from latentsync.face.boxes import Face, box_iou

logger = logging.getLogger(__name__)


class MainFaceTracker:
    """``update(faces)`` once per frame -> the tracked face, or None when it is not visible.

    The first face is the largest one, or with ``face_index`` the index-th face counted left to right.
    Afterwards the face overlapping the previous position best (IoU >= ``min_iou``), else the nearest
    one whose centre moved less than ``max_centre_shift`` face sizes, continues the track. After more than
    ``max_missing`` frames without a match the track is dropped and the next frame picks anew.
    """

    def __init__(
        self,
        face_index: int | None = None,
        max_missing: int = 12,
        min_iou: float = 0.3,
        max_centre_shift: float = 0.5,
    ):
        if face_index is not None and face_index < 0:
            raise ValueError(f"face_index must be >= 0, got {face_index}")
        self.face_index = face_index
        self.max_missing = max_missing
        self.min_iou = min_iou
        self.max_centre_shift = max_centre_shift
        self.current: Face | None = None
        self.missing = 0

    def reset(self) -> None:
        self.current = None
        self.missing = 0

    def update(self, faces: list[Face]) -> Face | None:
        if self.current is None:
            self.current = self._pick(faces)
            self.missing = 0
            return self.current
        match = self._follow(self.current, faces)
        if match is None:
            self.missing += 1
            if self.missing > self.max_missing:
                logger.debug("tracked face lost for %d frames; picking again", self.missing)
                self.reset()
            return None
        self.current, self.missing = match, 0
        return match

    def _pick(self, faces: list[Face]) -> Face | None:
        if not faces:
            return None
        if self.face_index is None:
            return max(faces, key=lambda face: face.area)
        left_to_right = sorted(faces, key=lambda face: face.centre[0])
        return left_to_right[self.face_index] if self.face_index < len(left_to_right) else None

    def _follow(self, previous: Face, faces: list[Face]) -> Face | None:
        if not faces:
            return None
        best = max(faces, key=lambda face: box_iou(previous, face))
        if box_iou(previous, best) >= self.min_iou:
            return best
        size = math.sqrt(max(previous.area, 1.0))
        px, py = previous.centre

        def shift(face: Face) -> float:
            cx, cy = face.centre
            return math.hypot(cx - px, cy - py) / size

        nearest = min(faces, key=shift)
        return nearest if shift(nearest) <= self.max_centre_shift else None
