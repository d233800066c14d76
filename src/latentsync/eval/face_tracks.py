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
from scipy.interpolate import interp1d
from scipy.signal import medfilt

CROP_SIZE = 224


@dataclass
class FaceTrack:
    frames: np.ndarray  # [N] consecutive frame indices
    boxes: np.ndarray  # [N, 4] x1, y1, x2, y2


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    inter_w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    inter_h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = inter_w * inter_h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def link_tracks(
    detections: list[np.ndarray],
    min_track: int = 50,
    max_gap: int = 25,
    iou_threshold: float = 0.5,
    min_face_size: float = 100,
) -> list[FaceTrack]:
    """Greedy tracks over per-frame boxes ``[K, >=4]`` (frame index = list index)."""
    remaining = [[np.asarray(box[:4], np.float64) for box in frame_boxes] for frame_boxes in detections]
    tracks: list[FaceTrack] = []
    while True:
        track: list[tuple[int, np.ndarray]] = []
        for frame, boxes in enumerate(remaining):
            for box in list(boxes):
                if not track:
                    track.append((frame, box))
                    _remove(boxes, box)
                elif frame - track[-1][0] <= max_gap:
                    if box_iou(box, track[-1][1]) > iou_threshold:
                        track.append((frame, box))
                        _remove(boxes, box)
                        continue
                else:
                    break
        if not track:
            return tracks
        if len(track) <= min_track:
            continue
        frames = np.array([f for f, _ in track])
        boxes = np.stack([b for _, b in track])
        dense = np.arange(frames[0], frames[-1] + 1)
        filled = np.stack([interp1d(frames, boxes[:, j])(dense) for j in range(4)], axis=1)
        size = max(np.mean(filled[:, 2] - filled[:, 0]), np.mean(filled[:, 3] - filled[:, 1]))
        if size > min_face_size:
            tracks.append(FaceTrack(dense, filled))


def _remove(boxes: list[np.ndarray], box: np.ndarray) -> None:
    for i, other in enumerate(boxes):
        if other is box:
            del boxes[i]
            return


def crop_track(frames: np.ndarray, track: FaceTrack, crop_scale: float = 0.4) -> np.ndarray:
    """[N, 224, 224, 3] crops (same channel order as ``frames``) following ``track``."""
    half = medfilt(
        (np.maximum(track.boxes[:, 3] - track.boxes[:, 1], track.boxes[:, 2] - track.boxes[:, 0]) / 2),
        kernel_size=13,
    )
    cy = medfilt((track.boxes[:, 1] + track.boxes[:, 3]) / 2, kernel_size=13)
    cx = medfilt((track.boxes[:, 0] + track.boxes[:, 2]) / 2, kernel_size=13)
    crops = []
    for i, frame_index in enumerate(track.frames):
        bs = half[i]
        pad = int(bs * (1 + 2 * crop_scale))
        padded = np.pad(frames[frame_index], ((pad, pad), (pad, pad), (0, 0)), constant_values=110)
        my, mx = cy[i] + pad, cx[i] + pad
        # Clamped at 0: a box centred off-frame would otherwise give an empty (negative-start) slice.
        top, left = max(int(my - bs), 0), max(int(mx - bs * (1 + crop_scale)), 0)
        face = padded[
            top : max(int(my + bs * (1 + 2 * crop_scale)), top + 1),
            left : max(int(mx + bs * (1 + crop_scale)), left + 1),
        ]
        crops.append(cv2.resize(face, (CROP_SIZE, CROP_SIZE)))
    return np.stack(crops)
