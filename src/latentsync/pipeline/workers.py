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

import torch

from latentsync.audio.whisper import MelScan, scan_audio
from latentsync.config import load_config
from latentsync.device import local_devices, pick_device, pick_dtype
from latentsync.pipeline.face_track import FACE, PASS_REASONS, FaceTrack
from latentsync.pipeline.faces import TrackedFaces, complete_track, open_tracked_faces
from latentsync.pipeline.fast_paths import apply_fast_paths, autocast_weights_dtype
from latentsync.pipeline.inputs import check_inputs, enhancer_for, enhancer_weights
from latentsync.pipeline.journal import Journal, Segment, work_dir_for
from latentsync.pipeline.model_loading import load_inference_models
from latentsync.pipeline.options import InferenceOptions
from latentsync.pipeline.output import finish_output
from latentsync.pipeline.run import LipSyncRun, lookahead_frames, planned_segment_states
from latentsync.pipeline.threads import Cancelled
from latentsync.pipeline.timeline import Timeline, build_timeline
from latentsync.video.probe import probe_video

logger = logging.getLogger(__name__)

SEGMENT_RETRIES = 2  # besides Dask's own rescheduling when a worker dies
_MODELS: dict[tuple, object] = {}
_MODELS_LOCK = threading.Lock()


# --- worker side -------------------------------------------------------------------------------


def worker_models(options: InferenceOptions):
    """One loaded model set per (model options, device) in this worker process."""

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
    audio_scan: MelScan,
    start: int,
    stop: int,
    planner_state: dict | None,
    track: FaceTrack,
    devices: list[str] | None,
) -> tuple[Segment, int]:
    """(the written segment, its frames with a face); runs on a worker."""
    options = InferenceOptions(**settings)
    options.device = _device_of_this_worker(devices, options.device)
    models = worker_models(options)
    if models.device.type == "cuda" and models.device.index is not None:
        torch.cuda.set_device(models.device)  # stray "cuda" tensors land on this worker's card, not card 0
    apply_fast_paths(models, options)
    faces = TrackedFaces(track, models.resolution, make_stage=None)  # replay only: the driver found them
    work_dir = work_dir_for(options.output)
    run = LipSyncRun(
        options,
        models,
        timeline,
        probe_video(options.video),
        faces,
        work_dir,
        audio_scan,
        enhancer_for(options, models),
    )
    done: list[tuple[Segment, int]] = []
    read_until = min(timeline.total, stop + lookahead_frames(options, timeline))
    run.render(
        start, stop, planner_state, lambda seg, _state, n: done.append((seg, n)), read_until=read_until
    )
    return done[0]


# --- driver side -------------------------------------------------------------------------------


def one_worker_per_gpu(devices: list[str]) -> list[str]:
    """Two workers on one card would each load every model and fight over its memory."""
    kept = [d for i, d in enumerate(devices) if d == "cpu" or d not in devices[:i]]
    if len(kept) < len(devices):
        logger.warning("%d workers on %d GPU(s): starting one per GPU", len(devices), len(kept))
    return kept


def dask_client(scheduler: str | None, workers: int):
    """(client, local cluster or None): the given scheduler, or local workers on 127.0.0.1."""
    from distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler), None
    cluster = LocalCluster(
        host="127.0.0.1",
        processes=True,
        n_workers=max(1, workers),
        threads_per_worker=1,
        dashboard_address=None,
    )
    return Client(cluster), cluster


class SegmentedJob:
    """One video cut into segments for workers: faces found and chunks planned here, segments
    rendered anywhere (``submit``), finished segments recorded (``record``), then ``finish``."""

    def __init__(self, options: InferenceOptions, devices: list[str] | None):

        self.started = time.monotonic()
        self.options, self.devices = options, devices
        video_info, _ = check_inputs(options)
        enhancer_weights(options)  # a missing file fails before any worker starts
        config = load_config(options.unet_config_name, "unet")
        self.num_frames, resolution = int(config.data.num_frames), int(config.data.resolution)
        device = pick_device(devices[0] if devices else options.device)
        dtype = pick_dtype(autocast_weights_dtype(options.autocast, options.dtype), device)
        self.audio_scan = scan_audio(options.audio)  # once for every segment
        self.timeline = build_timeline(options, video_info, self.audio_scan.num_samples, self.num_frames)
        self.journal = Journal(work_dir_for(options.output))
        data = self.journal.open(
            options.fingerprint(device.type, dtype),
            self.timeline.total,
            self.timeline.segment_frames,
            options.resume,
        )
        self.resumed_from = data.finished_frames
        self.track = find_faces(
            options, video_info, self.timeline, resolution, self.journal.work_dir, options.quiet
        )
        self.states, self.brief = planned_segment_states(options, self.timeline, self.track, self.num_frames)
        self.journal.plan_states(self.states)

    @property
    def todo(self) -> list[tuple[int, int]]:
        return [(a, b) for a, b in self.timeline.segments() if not self.journal.data.is_done(a)]

    def submit(self, client) -> list:
        """One Dask future per missing segment (a dead worker's segments are retried elsewhere)."""

        settings = asdict(self.options)
        settings.update(workers=1, scheduler=None, quiet=True)  # a worker renders, it does not fan out
        look = lookahead_frames(self.options, self.timeline)
        futures = []
        for start, stop in self.todo:
            window = self.track.window(start, min(stop + look, self.timeline.audio_frames))
            futures.append(
                client.submit(
                    render_segment,
                    settings,
                    self.timeline,
                    self.audio_scan,
                    start,
                    stop,
                    self.states.get(start),
                    window,
                    self.devices,
                    pure=False,
                    retries=SEGMENT_RETRIES,
                    key=f"segment-{start}-{os.getpid()}-{time.time_ns()}",
                )
            )
        return futures

    def record(self, result: tuple[Segment, int]) -> None:
        segment, faces = result
        self.journal.add_segment(segment, None, faces)

    @property
    def finished_frames(self) -> int:
        return self.journal.data.finished_frames

    def finish(self):
        """Join the segments with the audio into the output; the run's summary."""

        passed = _passed_counts(self.track, self.timeline)
        passed[f"face in fewer than {self.options.min_face_frames} frames in a row"] = self.brief
        return finish_output(
            self.options, self.journal, self.timeline, self.started, self.resumed_from, passed
        )


def local_worker_devices(options: InferenceOptions) -> list[str] | None:
    """The devices of the local workers (None on an existing cluster: its workers keep ``--device``)."""

    return None if options.scheduler else one_worker_per_gpu(local_devices(options.devices, options.workers))


def run_distributed(options: InferenceOptions, progress=None, cancel: threading.Event | None = None):
    from distributed import as_completed

    devices = local_worker_devices(options)
    job = SegmentedJob(options, devices)
    total = job.timeline.total
    bar = None
    if not options.quiet:
        from tqdm import tqdm

        bar = tqdm(
            total=total, initial=job.finished_frames, unit="frame", desc="lip-sync", dynamic_ncols=True
        )
    client, cluster = dask_client(options.scheduler, len(devices or [])) if job.todo else (None, None)
    try:
        for future in as_completed(job.submit(client) if client is not None else []):
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            before = job.finished_frames
            job.record(future.result())
            if bar is not None:
                bar.update(job.finished_frames - before)
            if progress is not None:
                progress(job.finished_frames, total)
    finally:
        if bar is not None:
            bar.close()
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    return job.finish()


def find_faces(
    options, video_info, timeline: Timeline, resolution: int, work_dir, quiet: bool = True
) -> FaceTrack:
    """The face track of every frame with audio: read from the cache, completed by detection."""

    faces = open_tracked_faces(
        options, timeline.out_fps, resolution, work_dir, options.device if not options.scheduler else "cpu"
    )
    complete_track(faces, options.video, video_info.fps, timeline.out_fps, timeline.audio_frames, quiet)
    return faces.track


def _passed_counts(track: FaceTrack, timeline: Timeline) -> dict[str, int]:
    counts = Counter(track.reason(i) for i in range(min(track.stop, timeline.audio_frames)))
    return {
        why: counts[code] for code, why in enumerate(PASS_REASONS, start=1) if code != FACE and counts[code]
    }
