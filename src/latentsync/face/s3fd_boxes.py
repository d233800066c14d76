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


def overlaps(box: torch.Tensor, others: torch.Tensor) -> torch.Tensor:
    """Intersection over union of one corner box [4] with each of ``others`` [M, 4]."""
    top_left = torch.maximum(others[:, :2], box[:2])
    bottom_right = torch.minimum(others[:, 2:], box[2:])
    intersection = (bottom_right - top_left).clamp(min=0.0).prod(dim=1)
    area = lambda b: (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])  # noqa: E731
    return intersection / ((area(others) - intersection) + area(box))


def greedy_nms(
    boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float, candidates: int | None = None
) -> torch.Tensor:
    """Indices of kept boxes, best first: a box survives while it overlaps every better kept box
    by at most ``iou_threshold``; only the ``candidates`` highest scores take part (all if None).
    """
    order = scores.argsort(descending=True, stable=True)
    if candidates is not None:
        order = order[:candidates]
    kept: list[torch.Tensor] = []
    while order.numel() > 0:
        best, order = order[0], order[1:]
        kept.append(best)
        order = order[overlaps(boxes[best], boxes[order]).le(iou_threshold)]
    return torch.stack(kept) if kept else torch.zeros(0, dtype=torch.long)


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
    """``greedy_nms`` over rows (x1, y1, x2, y2, score); returns kept row indices, best first."""
    rows = torch.from_numpy(np.asarray(dets, dtype=np.float64).reshape(-1, 5))
    return greedy_nms(rows[:, :4], rows[:, 4], iou_threshold).numpy().astype(np.int32)
