"""Face tracks for SyncNet evaluation: S3FD boxes linked over frames, then 224x224 crops.

Same rules as the SyncNet evaluation the original uses: boxes at confidence > 0.9 on the
frame scaled by 0.25; a track links boxes of consecutive frames with IoU > 0.5 and gaps of
at most 25 frames, must hold more than ``min_track`` detections and a mean box size above
100 px; boxes are linearly interpolated over gaps. Crops use the box centre and half-size
(median-filtered over 13 frames), widened by ``crop_scale`` 0.4, on a frame padded with 110.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.signal import medfilt

CROP_SIZE = 224
SMOOTHING_FRAMES = 13  # median filter over the box centre and size
PAD_VALUE = 110


@dataclass
class FaceTrack:
    frames: np.ndarray  # [N] consecutive frame indices
    boxes: np.ndarray  # [N, 4] x1, y1, x2, y2

    def mean_size(self) -> float:
        """The larger of the mean box width and mean box height."""
        return float(
            max(np.mean(self.boxes[:, 2] - self.boxes[:, 0]), np.mean(self.boxes[:, 3] - self.boxes[:, 1]))
        )


def box_iou(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    """IoU of one box [4] with each row of ``others`` [M, 4] (x1, y1, x2, y2)."""
    top_left = np.maximum(others[:, :2], box[:2])
    bottom_right = np.minimum(others[:, 2:4], box[2:4])
    intersection = np.clip(bottom_right - top_left, 0.0, None).prod(axis=1)
    area = lambda b: (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])  # noqa: E731
    union = area(others) + area(box) - intersection
    return np.divide(intersection, union, out=np.zeros_like(intersection), where=union > 0)


def link_tracks(
    detections: list[np.ndarray],
    min_track: int = 50,
    max_gap: int = 25,
    iou_threshold: float = 0.5,
    min_face_size: float = 100,
) -> list[FaceTrack]:
    """Tracks over per-frame boxes ``[K, >=4]`` (frame index = list index), longest-first greedy:
    each pass follows the earliest unused box forward and consumes what it links."""
    unused = [[np.asarray(box[:4], np.float64) for box in boxes] for boxes in detections]
    tracks: list[FaceTrack] = []
    while any(unused):
        chain = _follow_chain(unused, max_gap, iou_threshold)
        if len(chain) <= min_track:
            continue
        track = _densify(chain)
        if track.mean_size() > min_face_size:
            tracks.append(track)
    return tracks


def _follow_chain(
    unused: list[list[np.ndarray]], max_gap: int, iou_threshold: float
) -> list[tuple[int, np.ndarray]]:
    """Takes (and removes) one box per frame that overlaps the chain's last box, until a gap
    longer than ``max_gap`` frames."""
    chain: list[tuple[int, np.ndarray]] = []
    for frame, boxes in enumerate(unused):
        if not boxes:
            continue
        if not chain:
            chain.append((frame, boxes.pop(0)))
            continue
        if frame - chain[-1][0] > max_gap:
            break
        matches = np.flatnonzero(box_iou(chain[-1][1], np.stack(boxes)) > iou_threshold)
        if matches.size:
            chain.append((frame, boxes.pop(int(matches[0]))))
    return chain


def _densify(chain: list[tuple[int, np.ndarray]]) -> FaceTrack:
    """Boxes linearly interpolated onto every frame from the first link to the last."""
    frames = np.array([frame for frame, _ in chain])
    boxes = np.stack([box for _, box in chain])
    dense = np.arange(frames[0], frames[-1] + 1)
    return FaceTrack(dense, np.stack([np.interp(dense, frames, boxes[:, j]) for j in range(4)], axis=1))


def _smoothed(values: np.ndarray) -> np.ndarray:
    return medfilt(values, kernel_size=SMOOTHING_FRAMES)


def crop_track(frames: np.ndarray, track: FaceTrack, crop_scale: float = 0.4) -> np.ndarray:
    """[N, 224, 224, 3] crops (same channel order as ``frames``) following ``track``.

    The window is square-ish around the smoothed box centre: ``half`` above, ``half*(1+2s)``
    below, ``half*(1+s)`` either side (s = ``crop_scale``), read from a frame padded with 110.
    """
    x1, y1, x2, y2 = track.boxes.T
    half = _smoothed(np.maximum(y2 - y1, x2 - x1) / 2)
    centre_x, centre_y = _smoothed((x1 + x2) / 2), _smoothed((y1 + y2) / 2)
    crops = []
    for frame_index, h, cx, cy in zip(track.frames, half, centre_x, centre_y):
        pad = int(h * (1 + 2 * crop_scale))
        padded = np.pad(frames[frame_index], ((pad, pad), (pad, pad), (0, 0)), constant_values=PAD_VALUE)
        cx, cy = cx + pad, cy + pad
        # Clamped at 0: a box centred off-frame would otherwise give an empty (negative-start) slice.
        top, left = max(int(cy - h), 0), max(int(cx - h * (1 + crop_scale)), 0)
        bottom = max(int(cy + h * (1 + 2 * crop_scale)), top + 1)
        right = max(int(cx + h * (1 + crop_scale)), left + 1)
        crops.append(cv2.resize(padded[top:bottom, left:right], (CROP_SIZE, CROP_SIZE)))
    return np.stack(crops)
