"""Per-frame face work: detect, follow the main face, align it to the model's template.

Frames without a usable face (cutaways, occlusion, a face too small to align) pass through
unchanged downstream. ``TrackedFaces`` replays a saved face track (pipeline/face_track.py) and
runs the detector only past its end, extending the track, so a video's faces are found once.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from latentsync.face.align import FaceAligner
from latentsync.face.detector import Face, create_detector, resolve_detector_name
from latentsync.face.tracker import MainFaceTracker
from latentsync.pipeline.face_track import (
    FACE,
    PASS_REASONS,
    FaceTrack,
    TrackSettings,
    cache_dir_for,
    track_path,
)
from latentsync.pipeline.source import iter_output_frames
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

    ``process`` returns the frame's reason code (pipeline/face_track.py: 0 = face, else why it passes).
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
        self.timings: StageTimes = NO_TIMES

    def process(self, item: FrameItem, crop: bool = True) -> int:
        """``crop=False``: only the affine (a face-track pass has no use for the model input)."""
        with self.timings.measure("detect", 1):
            faces = self.detector.detect(item.frame)
            face = self.tracker.update(faces)
        if face is None:
            return 1
        eyebrows = np.linalg.norm(face.landmarks3[0] - face.landmarks3[1])
        if eyebrows < MIN_FACE_PIXELS:
            return 2
        with self.timings.measure("align", 1):
            affine = self.aligner.estimate(face.landmarks3)  # advances the smoothing, as warp does
            if crop:
                item.face = self.aligner.resize_to_model(self.aligner.warp_with(item.frame, affine))
        item.affine = affine
        return FACE

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


class TrackedFaces:
    """Faces of one run: replayed from ``track`` where it reaches, detected (and appended) past it.

    Frames must arrive in order. The detector is built only when the track runs out, so a rerun
    on a tracked video loads no face model at all. ``save`` writes the track (with the detector's
    state, to continue it later); it is called every ``save_seconds`` and when the stage ends.
    """

    def __init__(
        self,
        track: FaceTrack,
        resolution: int,
        make_stage: Callable[[], FaceStage] | None,
        path: Path | None = None,
        save_seconds: float = 30.0,
    ):
        self.track = track
        self.aligner = FaceAligner(resolution)  # replay: warp with the saved affine
        self.make_stage = make_stage
        self.path = path
        self.save_seconds = save_seconds
        self._stage: FaceStage | None = None
        self._saved_at = time.monotonic()
        self._saved_length = track.stop
        self.frames_with_face = 0
        self.detected = 0  # frames that went through the detector in this run
        self.passed: Counter[str] = Counter()
        self.timings: StageTimes = NO_TIMES

    def process(self, item: FrameItem, crop: bool = True) -> FrameItem:
        """``crop=False``: extend the track only, without the model input."""
        index = item.index
        if self.track.start <= index < self.track.stop:
            reason, affine = self.track.reason(index), self.track.affine(index)
            if affine is not None:
                if crop:
                    with self.timings.measure("align", 1):
                        item.face = self.aligner.resize_to_model(self.aligner.warp_with(item.frame, affine))
                item.affine = affine
        elif index == self.track.stop and self.make_stage is not None:
            reason = self._detector_stage().process(item, crop)
            self.track.append(item.affine, reason)
            self.detected += 1
            if time.monotonic() - self._saved_at > self.save_seconds:
                self.save()
        else:
            raise RuntimeError(
                f"face track covers frames {self.track.start}..{self.track.stop - 1}, not {index}"
            )
        if reason == FACE:
            self.frames_with_face += 1
        else:
            self.passed[PASS_REASONS[reason - 1]] += 1
        return item

    def _detector_stage(self) -> FaceStage:
        if self._stage is None:
            self._stage = self.make_stage()
            self._stage.timings = self.timings
            if self.track.end_state is not None:
                self._stage.load_state_dict(self.track.end_state)
        return self._stage

    def save(self) -> None:
        """Write the track if it grew (atomic; a kill keeps the previous save)."""
        self._saved_at = time.monotonic()
        if self.path is None or self.track.stop == self._saved_length or self._stage is None:
            return
        self.track.end_state = self._stage.state_dict()
        self.track.save(self.path)
        self._saved_length = self.track.stop


def open_tracked_faces(options, out_fps, resolution: int, work_dir: Path, device: str) -> TrackedFaces:
    """The run's faces: the video's saved track (``--face-cache``), extended by detection as needed."""

    detector = resolve_detector_name(options.face_detector, options.aux_dir)
    settings = TrackSettings(detector, options.face_threshold, options.face_index, resolution, out_fps)
    path = track_path(cache_dir_for(options.face_cache, work_dir), options.video, settings)
    track = FaceTrack.load(path) or FaceTrack()
    if track.stop:
        logger.info("face track: %d frames from %s", track.stop, path)

    def make_stage() -> FaceStage:
        return FaceStage(
            detector,
            resolution,
            options.face_index,
            aux_dir=options.aux_dir,
            min_score=options.face_threshold,
            device=device,
        )

    return TrackedFaces(track, resolution, make_stage, path)


def complete_track(
    faces: TrackedFaces, video: Path, source_fps, out_fps, stop: int, quiet: bool = True
) -> None:
    """Detect the frames ``faces.track`` lacks up to ``stop`` (a progress bar unless ``quiet``), then save."""
    from tqdm import tqdm

    start = faces.track.stop
    with tqdm(total=stop, initial=min(start, stop), unit="frame", desc="faces", disable=quiet) as bar:
        for index, frame in iter_output_frames(video, source_fps, out_fps, start, stop):
            faces.process(FrameItem(index=index, frame=frame), crop=False)
            bar.update(1)
    faces.save()
