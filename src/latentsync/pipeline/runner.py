"""``run_inference``: lip-sync one video, in bounded memory, resumable, on one or many workers.

The stages themselves are ``LipSyncRun`` (pipeline/run.py). Encoded frames go to segment files
recorded in a journal; a rerun after a crash renders only the missing segments, with the chunk
planner's saved state and the video's saved face track, so its frames equal those of an
uninterrupted run. With ``workers > 1`` (or a Dask ``scheduler``) segments are spread over
workers (pipeline/workers.py). The output appears only at the end, by rename, written once:
segments are joined and the audio added in one pass.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from latentsync.errors import InputError
from latentsync.pipeline.estimate import reports_out_of_memory
from latentsync.pipeline.faces import open_tracked_faces
from latentsync.pipeline.fast_paths import apply_fast_paths
from latentsync.pipeline.journal import Journal, work_dir_for
from latentsync.pipeline.model_loading import InferenceModels, load_inference_models
from latentsync.pipeline.options import InferenceOptions
from latentsync.pipeline.run import LipSyncRun
from latentsync.pipeline.timeline import build_timeline, count_samples
from latentsync.pipeline.timing import NO_TIMES, StageTimes

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], None]


@dataclass
class InferenceSummary:
    frames: int
    frames_with_face: int
    seconds: float
    output: Path
    resumed_from: int = 0
    passed: dict[str, int] = field(default_factory=dict)  # frames left unchanged, by reason (this run)
    face_detections: int = 0  # frames that went through the face detector (0: a cached face track)

    def line(self) -> str:
        passed = ", ".join(f"{count} {why}" for why, count in self.passed.items() if count)
        return (
            f"{self.frames} frames, face in {self.frames_with_face}, {self.seconds:.1f} s"
            f"{f' (resumed at frame {self.resumed_from})' if self.resumed_from else ''}"
            f"{f'; unchanged: {passed}' if passed else ''} -> {self.output}"
        )


def check_inputs(options: InferenceOptions):
    """Probe both inputs (clear one-line errors) before any model is loaded."""
    from latentsync.audio.io import probe_audio
    from latentsync.face.installed import check_detector_installed
    from latentsync.video.probe import probe_video

    check_detector_installed(options.face_detector)
    video_info = probe_video(options.video)
    audio_info = probe_audio(options.audio)
    out = options.output
    if out.exists() and out.is_dir():
        raise InputError(f"output path is a directory: {out}")
    for src in (options.video, options.audio):
        if out.resolve() == src.resolve():
            raise InputError(f"output path must differ from the input {src}")
    if not out.parent.exists():
        raise InputError(f"output directory does not exist: {out.parent}")
    if not out.parent.is_dir():
        raise InputError(f"output folder is not a directory: {out.parent}")
    if not os.access(out.parent, os.W_OK):
        raise InputError(f"output directory is not writable: {out.parent}")
    return video_info, audio_info


@reports_out_of_memory  # one sentence with the estimate and a setting that fits; segments stay
def run_inference(
    options: InferenceOptions,
    models: InferenceModels | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    timings: StageTimes | None = None,
) -> InferenceSummary:
    """Lip-sync ``options.video`` to ``options.audio``; ``timings`` (optional) collects per-stage busy time."""
    if options.distributed:
        from latentsync.pipeline.workers import run_distributed

        return run_distributed(options, progress, cancel)
    started = time.monotonic()
    timings = timings if timings is not None else NO_TIMES
    video_info, _ = check_inputs(options)
    enhancer_weights(options)  # a missing file fails before any model loads
    models = models or load_inference_models(options)
    apply_fast_paths(models, options)
    timeline = build_timeline(options, video_info, count_samples(options.audio), models.num_frames)
    journal = Journal(work_dir_for(options.output))
    fingerprint = options.fingerprint(models.device.type, models.dtype)  # resolved, never "auto"
    data = journal.open(fingerprint, timeline.total, timeline.segment_frames, options.resume)
    start = data.next_start
    faces = open_tracked_faces(
        options, timeline.out_fps, models.resolution, journal.work_dir, str(models.device)
    )
    faces.timings = timings
    enhancer = enhancer_for(options, models)
    run = LipSyncRun(
        options, models, timeline, video_info, faces, journal.work_dir, enhancer, timings, cancel
    )

    bar = None
    if not options.quiet:
        from tqdm import tqdm

        bar = tqdm(total=timeline.total, initial=start, unit="frame", desc="lip-sync", dynamic_ncols=True)

    def frame_done(index: int) -> None:
        if bar is not None:
            bar.update(1)
        if progress is not None:
            progress(index + 1, timeline.total)

    try:
        planner = run.render(start, timeline.total, data.state_at(start), journal.add_segment, frame_done)
    finally:
        if bar is not None:
            bar.close()
    passed = dict(faces.passed)
    passed[f"face in fewer than {options.min_face_frames} frames in a row"] = planner.brief_frames
    summary = finish_output(options, journal, timeline, started, start, passed)
    summary.face_detections = faces.detected
    if timings is not NO_TIMES:
        timings.wall_seconds = summary.seconds
    return summary


def finish_output(options, journal: Journal, timeline, started: float, resumed_from: int, passed: dict):
    """Join the finished segments and add the audio into the output (one pass, atomic); drop the work folder."""
    from latentsync.video.atomic import atomic_output
    from latentsync.video.mux import mux_segments

    if journal.data.next_start != timeline.total:
        raise RuntimeError(f"pipeline stopped at frame {journal.data.next_start} of {timeline.total}")
    with atomic_output(options.output) as tmp_out:
        mux_segments(journal.segment_paths(), options.audio, tmp_out, duration_seconds=timeline.duration)
    faces_total = journal.data.faces
    journal.remove()
    summary = InferenceSummary(
        timeline.total, faces_total, time.monotonic() - started, options.output, resumed_from, passed
    )
    logger.info("done: %s", summary.line())
    return summary


def enhancer_weights(options: InferenceOptions) -> Path | None:
    if not options.enhancer:
        return None
    from latentsync.face.enhancer import enhancer_path

    return enhancer_path(options.enhancer, aux_dir=options.aux_dir)


def enhancer_for(options: InferenceOptions, models: InferenceModels):
    """The face restorer of ``--enhancer`` (face/enhancer.py), or None."""
    weights = enhancer_weights(options)
    if weights is None:
        return None
    from latentsync.face.enhancer import FaceEnhancer

    return FaceEnhancer(weights, options.enhancer_strength, models.device, models.dtype)
