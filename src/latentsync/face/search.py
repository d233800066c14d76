"""Second looks for faces a detector misses on the plain frame: grayscale video and small faces in 4K.

- Grayscale (or nearly): MediaPipe's Face Mesh often finds nothing on a gray image, and on a copy
  tinted to skin colours it finds the face but misplaces its landmarks by 25-55 px. MediaPipe's
  full-range face detector still boxes gray faces well, and the mesh on a square region around each
  box lands within ~6-13 px of the colour frame's points: that is the second look (the tinted copy
  only when the box detector finds nothing).
- Large frames: the detectors see the frame shrunk to a few hundred pixels, where an 80-150 px face
  in a 3840x2160 frame is a dozen pixels wide. The region around the last face found is searched
  at full resolution first (one call per frame while a face is followed); without one, the frame is
  searched in overlapping tiles, every ``search_every``-th frame only (the tile search is ~40 calls
  at 4K), so a long stretch without any face stays cheap.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import cv2
import numpy as np
import torch

from latentsync.face.boxes import Face, FaceDetector, box_iou

logger = logging.getLogger(__name__)

GRAY_TOLERANCE = 3.0  # mean |R-G| + |G-B| below this: treated as grayscale
LUMA = (0.299, 0.587, 0.114)
SKIN_TINT = np.array([1.0, 0.82, 0.68], dtype=np.float32)  # RGB gains of the tinted copy
LARGE_SIDE = 1600  # frames with a longer side than this get the full-resolution search
TILE = 640
TILE_OVERLAP = 160  # > the largest face the tiles are for (150 px), so one tile holds it whole


def is_grayscale(frame_rgb: np.ndarray) -> bool:
    sample = frame_rgb[::8, ::8].astype(np.int16)
    spread = np.abs(sample[..., 0] - sample[..., 1]).mean() + np.abs(sample[..., 1] - sample[..., 2]).mean()
    return float(spread) < GRAY_TOLERANCE


def skin_tinted(frame_rgb: np.ndarray) -> np.ndarray:
    gray = cv2.cvtColor(frame_rgb, cv2.COLOR_RGB2GRAY)
    return np.dstack([cv2.convertScaleAbs(gray, alpha=float(gain)) for gain in SKIN_TINT])


def gray_if_source_is(frame_rgb: np.ndarray, face: torch.Tensor) -> torch.Tensor:
    """A generated face [3, H, W] turned gray (Rec.601 luma) when the frame it goes into is gray."""
    if not is_grayscale(frame_rgb):
        return face
    luma = torch.tensor(LUMA, dtype=face.dtype, device=face.device).view(3, 1, 1)
    return (face * luma).sum(dim=0, keepdim=True).expand_as(face)


def shifted(face: Face, dx: float, dy: float) -> Face:
    offset = np.array([dx, dy], dtype=np.float32)
    return replace(
        face,
        x1=face.x1 + dx,
        y1=face.y1 + dy,
        x2=face.x2 + dx,
        y2=face.y2 + dy,
        landmarks3=face.landmarks3 + offset,
        landmarks=None if face.landmarks is None else face.landmarks + offset,
    )


def tile_origins(length: int, tile: int = TILE, overlap: int = TILE_OVERLAP) -> list[int]:
    if length <= tile:
        return [0]
    step = tile - overlap
    origins = list(range(0, length - tile, step))
    return origins + [length - tile]


def merge(faces: list[Face], min_iou: float = 0.3) -> list[Face]:
    """Drop duplicates found in overlapping tiles (keep the higher score, then the larger box)."""
    kept: list[Face] = []
    for face in sorted(faces, key=lambda f: (f.score, f.area), reverse=True):
        if all(box_iou(face, other) < min_iou for other in kept):
            kept.append(face)
    return kept


class SearchingDetector:
    """Wraps a detector; ``detect`` tries the plain frame, then the second looks described above."""

    def __init__(self, detector: FaceDetector, search_every: int = 10):
        self.detector = detector
        self.search_every = max(1, search_every)
        self._last: Face | None = None
        self._since_search = 0
        self._boxes = None  # MediaPipe full-range face detector, made on the first gray frame

    def __getattr__(self, name: str):
        return getattr(self.detector, name)

    def detect(self, frame_rgb: np.ndarray) -> list[Face]:
        faces = self.detector.detect(frame_rgb)
        if not faces and is_grayscale(frame_rgb):
            faces = self._search_gray(frame_rgb)
        if not faces and max(frame_rgb.shape[:2]) > LARGE_SIDE:
            faces = self._search_large(frame_rgb)
        self._last = max(faces, key=lambda f: f.area) if faces else None
        return faces

    def _search_large(self, frame_rgb: np.ndarray) -> list[Face]:
        if self._last is not None:
            last = self._last
            faces = self._search_region(frame_rgb, last.centre, max(TILE, 4 * max(last.width, last.height)))
            if faces:
                return faces
        if self._last is None and self._since_search > 0:  # nothing followed: search now and then
            self._since_search = (self._since_search + 1) % self.search_every
            return []
        self._since_search = 1 % self.search_every
        height, width = frame_rgb.shape[:2]
        found = [
            shifted(face, x, y)
            for y in tile_origins(height)
            for x in tile_origins(width)
            for face in self.detector.detect(np.ascontiguousarray(frame_rgb[y : y + TILE, x : x + TILE]))
        ]
        logger.debug("tile search found %d face(s)", len(found))
        return merge(found)

    def _search_gray(self, frame_rgb: np.ndarray) -> list[Face]:
        if self._boxes is None:
            import mediapipe as mp

            self._boxes = mp.solutions.face_detection.FaceDetection(
                model_selection=1, min_detection_confidence=0.3
            )
        height, width = frame_rgb.shape[:2]
        found = []
        for detection in self._boxes.process(np.ascontiguousarray(frame_rgb)).detections or []:
            box = detection.location_data.relative_bounding_box
            side = 1.8 * max(box.width * width, box.height * height)
            centre = ((box.xmin + box.width / 2) * width, (box.ymin + box.height / 2) * height)
            found += self._search_region(frame_rgb, centre, side)
        return merge(found) or self.detector.detect(skin_tinted(frame_rgb))

    def _search_region(self, frame_rgb: np.ndarray, centre: tuple[float, float], side: float) -> list[Face]:
        height, width = frame_rgb.shape[:2]
        side = int(side)
        cx, cy = centre
        x0 = int(np.clip(cx - side / 2, 0, max(0, width - side)))
        y0 = int(np.clip(cy - side / 2, 0, max(0, height - side)))
        region = np.ascontiguousarray(frame_rgb[y0 : y0 + side, x0 : x0 + side])
        return [shifted(face, x0, y0) for face in self.detector.detect(region)]
