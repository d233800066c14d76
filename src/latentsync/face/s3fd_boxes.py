"""S3FD post-processing: anchor decoding and non-maximum suppression, as the original detector does it."""

from __future__ import annotations

import numpy as np
import torch

BOX_VARIANCES = (0.1, 0.2)  # centre / size scaling of the regression targets
MIN_SCORE = 0.05  # candidates below this face probability are dropped before NMS
NMS_IOU = 0.3
NMS_CANDIDATES = 5000  # highest-scoring candidates considered by NMS
MAX_DETECTIONS = 750  # rows per class in the detection table


def decode_boxes(loc: torch.Tensor, priors: torch.Tensor, variances=BOX_VARIANCES) -> torch.Tensor:
    """Regression offsets [N,4] on anchors (cx,cy,w,h) [N,4] -> corner boxes (x1,y1,x2,y2)."""
    centres = priors[:, :2] + loc[:, :2] * variances[0] * priors[:, 2:]
    sizes = priors[:, 2:] * torch.exp(loc[:, 2:] * variances[1])
    top_left = centres - sizes / 2
    return torch.cat([top_left, sizes + top_left], dim=1)


def greedy_nms(
    boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float, candidates: int
) -> torch.Tensor:
    """Indices of kept boxes, best first; only the ``candidates`` highest scores take part.

    Overlap is intersection / union of corner boxes; a box survives while its IoU with every
    kept box is <= ``iou_threshold``.
    """
    if boxes.numel() == 0:
        return torch.zeros(0, dtype=torch.long)
    x1, y1, x2, y2 = boxes.unbind(1)
    area = (x2 - x1) * (y2 - y1)
    _, ascending = scores.sort(0)
    remaining = ascending[-candidates:]
    kept = []
    while remaining.numel() > 0:
        best = remaining[-1]
        kept.append(best)
        remaining = remaining[:-1]
        if remaining.numel() == 0:
            break
        w = (x2[remaining].clamp(max=x2[best]) - x1[remaining].clamp(min=x1[best])).clamp(min=0.0)
        h = (y2[remaining].clamp(max=y2[best]) - y1[remaining].clamp(min=y1[best])).clamp(min=0.0)
        inter = w * h
        iou = inter / ((area[remaining] - inter) + area[best])
        remaining = remaining[iou.le(iou_threshold)]
    return torch.stack(kept)


def detection_table(
    loc: torch.Tensor,
    conf_softmax: torch.Tensor,
    priors: torch.Tensor,
    min_score: float = MIN_SCORE,
    iou_threshold: float = NMS_IOU,
    max_detections: int = MAX_DETECTIONS,
) -> torch.Tensor:
    """Raw heads -> [B, classes, max_detections, 5] rows of (score, x1, y1, x2, y2), best first, zero-padded.

    Coordinates are relative to the network input; class 0 (background) stays empty.
    """
    batch, _, num_classes = conf_softmax.shape
    table = torch.zeros(batch, num_classes, max_detections, 5)
    for b in range(batch):
        boxes = decode_boxes(loc[b], priors)
        for cls in range(1, num_classes):
            scores = conf_softmax[b, :, cls]
            mask = scores.gt(min_score)
            cls_scores, cls_boxes = scores[mask], boxes[mask]
            keep = greedy_nms(cls_boxes, cls_scores, iou_threshold, NMS_CANDIDATES)[:max_detections]
            n = keep.numel()
            if n:
                table[b, cls, :n] = torch.cat([cls_scores[keep].unsqueeze(1), cls_boxes[keep]], dim=1).cpu()
    return table


def nms_numpy(dets: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Greedy NMS over rows (x1, y1, x2, y2, score); returns kept row indices, best first."""
    if len(dets) == 0:
        return np.zeros(0, dtype=np.int32)
    x1, y1, x2, y2, scores = (dets[:, i] for i in range(5))
    areas = (x2 - x1) * (y2 - y1)
    order = scores.argsort()[::-1]
    keep = []
    while order.size > 0:
        best = order[0]
        keep.append(int(best))
        rest = order[1:]
        w = np.maximum(0.0, np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest]))
        h = np.maximum(0.0, np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest]))
        inter = w * h
        overlap = inter / (areas[best] + areas[rest] - inter)
        order = rest[overlap <= iou_threshold]
    return np.asarray(keep, dtype=np.int32)
