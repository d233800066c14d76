"""One video on many workers: a Dask cluster renders its segments in parallel.

The driver finds the video's faces once (or reads its saved face track), runs the chunk planner
over the track alone to learn the planner state at every segment start, and hands each missing
segment to a worker with its slice of the track. A worker keeps its models loaded between
segments and writes its segment file into the job's work folder (a shared filesystem on a real
cluster); the driver records finished segments in the journal, in any order, then joins them and
adds the audio. Segments never share a model call, so the frames equal a single-process run's.
Dask retries the segments of a worker that dies on another worker; a killed driver resumes from
the journal.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import Counter
from dataclasses import asdict

from latentsync.pipeline.face_track import FACE, PASS_REASONS, FaceTrack
from latentsync.pipeline.journal import Journal, Segment, work_dir_for
from latentsync.pipeline.options import InferenceOptions
from latentsync.pipeline.threads import Cancelled
from latentsync.pipeline.timeline import Timeline

logger = logging.getLogger(__name__)

SEGMENT_RETRIES = 2  # besides Dask's own rescheduling when a worker dies
_MODELS: dict[tuple, object] = {}
_MODELS_LOCK = threading.Lock()


# --- worker side -------------------------------------------------------------------------------


def worker_models(options: InferenceOptions):
    """One loaded model set per (model options, device) in this worker process."""
    from latentsync.pipeline.model_loading import load_inference_models

    key = options.model_key()
    with _MODELS_LOCK:
        if key not in _MODELS:
            logger.info("worker %d: loading models %s", os.getpid(), key)
            _MODELS[key] = load_inference_models(options)
        return _MODELS[key]


def _device_of_this_worker(devices: list[str] | None, default: str) -> str:
    """Local workers are named 0, 1, ...: worker i takes ``devices[i]``; others keep ``default``."""
    if not devices:
        return default
    from distributed import get_worker

    name = str(get_worker().name)
    return devices[int(name) % len(devices)] if name.isdigit() else default


def render_segment(
    settings: dict,
    timeline: Timeline,
    start: int,
    stop: int,
    planner_state: dict | None,
    track: FaceTrack,
    devices: list[str] | None,
) -> tuple[Segment, int]:
    """(the written segment, its frames with a face); runs on a worker."""
    from latentsync.pipeline.faces import TrackedFaces
    from latentsync.pipeline.fast_paths import apply_fast_paths
    from latentsync.pipeline.run import LipSyncRun, lookahead_frames
    from latentsync.pipeline.runner import enhancer_for
    from latentsync.video.probe import probe_video

    options = InferenceOptions(**settings)
    options.device = _device_of_this_worker(devices, options.device)
    models = worker_models(options)
    apply_fast_paths(models, options)
    faces = TrackedFaces(track, models.resolution, make_stage=None)  # replay only: the driver found them
    work_dir = work_dir_for(options.output)
    run = LipSyncRun(options, models, timeline, probe_video(options.video), faces, work_dir, enhancer_for(options, models))
    done: list[tuple[Segment, int]] = []
    read_until = min(timeline.total, stop + lookahead_frames(options, timeline))
    run.render(start, stop, planner_state, lambda seg, _state, n: done.append((seg, n)), read_until=read_until)
    return done[0]


# --- driver side -------------------------------------------------------------------------------


def dask_client(options: InferenceOptions):
    """(client, local cluster or None): the given scheduler, or local workers on 127.0.0.1."""
    from distributed import Client, LocalCluster

    if options.scheduler:
        return Client(options.scheduler), None
    cluster = LocalCluster(
        host="127.0.0.1",
        processes=True,
        n_workers=max(1, options.workers),
        threads_per_worker=1,
        dashboard_address=None,
    )
    return Client(cluster), cluster


def run_distributed(options: InferenceOptions, progress=None, cancel: threading.Event | None = None):
    from distributed import as_completed

    from latentsync.config import load_config
    from latentsync.pipeline.device import local_devices, pick_device, pick_dtype
    from latentsync.pipeline.fast_paths import autocast_weights_dtype
    from latentsync.pipeline.run import lookahead_frames, planned_segment_states
    from latentsync.pipeline.runner import check_inputs, enhancer_weights, finish_output
    from latentsync.pipeline.timeline import build_timeline, count_samples

    started = time.monotonic()
    video_info, _ = check_inputs(options)
    enhancer_weights(options)  # a missing file fails before any worker starts
    config = load_config(options.unet_config_name, "unet")
    num_frames, resolution = int(config.data.num_frames), int(config.data.resolution)
    devices = None if options.scheduler else local_devices(options.devices, options.workers)
    device = pick_device(devices[0] if devices else options.device)
    dtype = pick_dtype(autocast_weights_dtype(options.autocast, options.dtype), device)
    timeline = build_timeline(options, video_info, count_samples(options.audio), num_frames)
    journal = Journal(work_dir_for(options.output))
    data = journal.open(options.fingerprint(device.type, dtype), timeline.total, timeline.segment_frames, options.resume)
    resumed_from = data.finished_frames
    track = find_faces(options, video_info, timeline, resolution, journal.work_dir, quiet=options.quiet)
    states, brief = planned_segment_states(options, timeline, track, num_frames)
    journal.plan_states(states)
    todo = [(a, b) for a, b in timeline.segments() if not data.is_done(a)]
    settings = asdict(options)
    settings.update(workers=1, scheduler=None, quiet=True)  # a worker renders, it does not fan out
    bar = None
    if not options.quiet:
        from tqdm import tqdm

        bar = tqdm(total=timeline.total, initial=data.finished_frames, unit="frame", desc="lip-sync", dynamic_ncols=True)
    client, cluster = dask_client(options) if todo else (None, None)
    try:
        futures = []
        for start, stop in todo:
            window = track.window(start, min(stop + lookahead_frames(options, timeline), timeline.audio_frames))
            futures.append(
                client.submit(
                    render_segment, settings, timeline, start, stop, states.get(start), window, devices,
                    pure=False, retries=SEGMENT_RETRIES, key=f"segment-{start}-{os.getpid()}-{time.time_ns()}",
                )
            )
        for future in as_completed(futures):
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            segment, faces = future.result()
            journal.add_segment(segment, None, faces)
            if bar is not None:
                bar.update(segment.stop - segment.start)
            if progress is not None:
                progress(journal.data.finished_frames, timeline.total)
    finally:
        if bar is not None:
            bar.close()
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    passed = _passed_counts(track, timeline)
    passed[f"face in fewer than {options.min_face_frames} frames in a row"] = brief
    return finish_output(options, journal, timeline, started, resumed_from, passed)


def find_faces(options, video_info, timeline: Timeline, resolution: int, work_dir, quiet: bool = True) -> FaceTrack:
    """The face track of every frame with audio: read from the cache, completed by detection."""
    from latentsync.pipeline.faces import complete_track, open_tracked_faces

    faces = open_tracked_faces(options, timeline.out_fps, resolution, work_dir, options.device if not options.scheduler else "cpu")
    complete_track(faces, options.video, video_info.fps, timeline.out_fps, timeline.audio_frames, quiet)
    return faces.track


def _passed_counts(track: FaceTrack, timeline: Timeline) -> dict[str, int]:
    counts = Counter(track.reason(i) for i in range(min(track.stop, timeline.audio_frames)))
    return {why: counts[code] for code, why in enumerate(PASS_REASONS, start=1) if code != FACE and counts[code]}
