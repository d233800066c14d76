"""Face boxes in an RGB frame with S3FD, the way the sync-confidence eval and data pipeline find faces."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import torch

from latentsync.errors import InputError
from latentsync.face.s3fd_boxes import detection_table, nms_numpy
from latentsync.models.s3fd import S3FD

# The network was trained on BGR images minus this per-channel mean; it is fed RGB order
# with the mean subtracted per matching channel.
RGB_MEAN = np.array([123.0, 117.0, 104.0], dtype=np.float32)
MERGE_IOU = 0.1  # NMS across scales of the final boxes
BOX_COLUMNS = ("x1", "y1", "x2", "y2", "score")


def s3fd_input(frame_rgb: np.ndarray, scale: float = 1.0) -> torch.Tensor:
    """uint8 RGB frame [H,W,3] -> network input [1,3,h,w] (bilinear resize by ``scale``, mean removed)."""
    if frame_rgb.ndim != 3 or frame_rgb.shape[2] != 3:
        raise InputError(f"expected an RGB frame [H, W, 3], got shape {tuple(frame_rgb.shape)}")
    resized = frame_rgb
    if scale != 1.0:
        resized = cv2.resize(frame_rgb, dsize=(0, 0), fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
    chw = resized.astype(np.float32).transpose(2, 0, 1) - RGB_MEAN[:, None, None]
    return torch.from_numpy(np.ascontiguousarray(chw)).unsqueeze(0)


@torch.no_grad()
def detect_faces(
    model: S3FD,
    frame_rgb: np.ndarray,
    conf_threshold: float = 0.8,
    scales: Sequence[float] = (1.0,),
) -> np.ndarray:
    """Face boxes [N,5] as (x1, y1, x2, y2, score) in frame pixels, best first.

    Detections above ``conf_threshold`` from every scale are pooled and merged with NMS at
    IoU 0.1. The sync eval uses ``conf_threshold=0.9, scales=(0.25,)``.
    """
    height, width = frame_rgb.shape[:2]
    device = next(model.parameters()).device
    frame_size = torch.tensor([width, height, width, height], dtype=torch.float32)
    rows: list[np.ndarray] = []
    for scale in scales:
        heads = model(s3fd_input(frame_rgb, scale).to(device))
        table = detection_table(heads.loc.cpu(), heads.conf_softmax.cpu(), heads.priors.cpu())[0]
        for cls_rows in table:
            confident = cls_rows[cls_rows[:, 0] > conf_threshold]  # rows are sorted by score
            for row in confident:
                corners = (row[1:] * frame_size).numpy().astype(np.float64)
                rows.append(np.append(corners, float(row[0])))
    if not rows:
        return np.empty((0, 5), dtype=np.float64)
    boxes = np.stack(rows)
    return boxes[nms_numpy(boxes, MERGE_IOU)]
