"""Per-frame face work: detect, follow the main face, align it to the model's template.

Frames without a usable face (cutaways, occlusion, a face too small to align) pass through
unchanged downstream. The tracker's and the aligner's state can be saved at segment starts,
so a resumed run continues exactly as an uninterrupted one.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import torch

from latentsync.face.align import FaceAligner
from latentsync.face.detector import Face, create_detector
from latentsync.face.tracker import MainFaceTracker
from latentsync.pipeline.timing import NO_TIMES, StageTimes

logger = logging.getLogger(__name__)

MIN_FACE_PIXELS = 10  # eyebrow-to-eyebrow distance (px) below which alignment is meaningless


@dataclass
class FrameItem:
    """One output frame on its way through the stages."""

    index: int
    frame: np.ndarray  # HxWx3 uint8 RGB
    face: np.ndarray | None = None  # [res, res, 3] uint8 model input, None = pass through
    affine: np.ndarray | None = None  # frame -> crop [2, 3]
    in_audio: bool = True  # False past the end of the driving audio (--keep-video-length)
    state: dict | None = None  # stage states at a segment start, for the journal
    generated: torch.Tensor | None = None  # [3, crop_h, crop_w] in [-1, 1]
    alpha: float = 1.0  # blend weight of the generated face (fades at face-segment edges)
    segment: int | None = None  # resumable segment, when ``index`` is not an output index (retime.py)
    extra: dict = field(default_factory=dict)

    @property
    def has_face(self) -> bool:
        return self.affine is not None


class FaceStage:
    """Detector + main-face tracker + aligner for one video.

    ``passed`` counts the frames left unchanged, by reason ("no face", "face too small").
    """

    def __init__(
        self,
        detector: str,
        resolution: int,
        face_index: int | None = None,
        aux_dir: str | None = None,
        min_score: float | None = None,
        device: str = "cpu",
    ):
        self.detector = create_detector(detector, aux_dir=aux_dir, min_score=min_score, device=device)
        self.tracker = MainFaceTracker(face_index=face_index)
        self.aligner = FaceAligner(resolution)
        self.frames_with_face = 0
        self.passed: Counter[str] = Counter()
        self.timings: StageTimes = NO_TIMES

    def process(self, item: FrameItem) -> FrameItem:
        with self.timings.measure("detect", 1):
            faces = self.detector.detect(item.frame)
            face = self.tracker.update(faces)
        if face is None:
            self.passed["no face"] += 1
            return item
        eyebrows = np.linalg.norm(face.landmarks3[0] - face.landmarks3[1])
        if eyebrows < MIN_FACE_PIXELS:
            self.passed["face too small"] += 1
            return item
        with self.timings.measure("align", 1):
            crop, affine = self.aligner.warp(item.frame, face.landmarks3)
            item.face = self.aligner.resize_to_model(crop)
        item.affine = affine
        self.frames_with_face += 1
        return item

    def state_dict(self) -> dict:
        """JSON-able state: the tracked face and the aligner's smoothing bias."""
        current = self.tracker.current
        tracked = None
        if current is not None:
            tracked = {
                "box": [float(v) for v in current.bbox],
                "score": float(current.score),
                "landmarks3": np.asarray(current.landmarks3, dtype=np.float64).tolist(),
            }
        return {
            "tracked": tracked,
            "missing": self.tracker.missing,
            "aligner_bias": self.aligner.smoothing_state(),
        }

    def load_state_dict(self, state: dict) -> None:
        tracked = state.get("tracked")
        self.tracker.current = (
            None
            if tracked is None
            else Face(*tracked["box"], tracked["score"], np.asarray(tracked["landmarks3"], dtype=np.float32))
        )
        self.tracker.missing = int(state.get("missing", 0))
        self.aligner.restore_smoothing(state.get("aligner_bias"))
