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
import threading
import time
from collections.abc import Callable

from latentsync.audio.whisper import scan_audio
from latentsync.pipeline.estimate import reports_out_of_memory
from latentsync.pipeline.faces import open_tracked_faces
from latentsync.pipeline.fast_paths import apply_fast_paths
from latentsync.pipeline.inputs import check_inputs, enhancer_for, enhancer_weights
from latentsync.pipeline.journal import Journal, work_dir_for
from latentsync.pipeline.model_loading import InferenceModels, load_inference_models
from latentsync.pipeline.options import InferenceOptions
from latentsync.pipeline.output import InferenceSummary, finish_output
from latentsync.pipeline.run import LipSyncRun
from latentsync.pipeline.timeline import build_timeline
from latentsync.pipeline.timing import NO_TIMES, StageTimes
from latentsync.pipeline.workers import run_distributed

logger = logging.getLogger(__name__)

__all__ = ["InferenceSummary", "check_inputs", "run_inference"]

ProgressCallback = Callable[[int, int], None]


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
        return run_distributed(options, progress, cancel)
    started = time.monotonic()
    timings = timings if timings is not None else NO_TIMES
    video_info, _ = check_inputs(options)
    enhancer_weights(options)  # a missing file fails before any model loads
    models = models or load_inference_models(options)
    apply_fast_paths(models, options)
    audio_scan = scan_audio(options.audio)  # one first pass, for the frame count and the features
    timeline = build_timeline(options, video_info, audio_scan.num_samples, models.num_frames)
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
        options, models, timeline, video_info, faces, journal.work_dir, audio_scan, enhancer, timings, cancel
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
