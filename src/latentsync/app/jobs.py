"""Lip-sync jobs: one at a time per device, with progress, cancel, model reuse and per-job temp dirs.

Each job runs on its own thread so the page can poll it and a Cancel can stop it between frames.
A job's directory (linked inputs, partial segments, result) lives under the app's temp root, is
removed at once when the job fails or is cancelled, and some time after it finished otherwise.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from latentsync.api import Cancelled, LipSync
from latentsync.app.errors import NO_FACE, friendly_message
from latentsync.pipeline.options import InferenceOptions
from latentsync.pipeline.runner import check_inputs

logger = logging.getLogger(__name__)

CHECKING, WAITING, LOADING, RUNNING, DONE, FAILED, CANCELLED = (
    "checking",
    "waiting",
    "loading models",
    "running",
    "done",
    "failed",
    "cancelled",
)


def _format_seconds(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


@dataclass
class Job:
    id: str
    session: str
    dir: Path
    options: InferenceOptions
    names: dict[Path, str] = field(default_factory=dict)
    cancel: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)
    state: str = CHECKING
    done_frames: int = 0
    total_frames: int = 0
    created: float = field(default_factory=time.monotonic)
    running_since: float | None = None
    first_progress: tuple[float, int] | None = None  # (time, frames): ETA excludes the warm-up
    ended: float | None = None
    summary: object | None = None  # InferenceSummary
    message: str | None = None  # the one sentence for the page when not a clean success

    @property
    def output(self) -> Path:
        return self.options.output

    def on_progress(self, done: int, total: int) -> None:
        if self.first_progress is None:
            self.first_progress = (time.monotonic(), done)
        self.done_frames, self.total_frames = done, total

    def eta_seconds(self) -> float | None:
        """From the rate since the first finished frame (model warm-up and face search excluded)."""
        if self.first_progress is None or not self.total_frames:
            return None
        since, first_done = self.first_progress
        if self.done_frames <= first_done:
            return None
        rate = (time.monotonic() - since) / (self.done_frames - first_done)
        return rate * (self.total_frames - self.done_frames)

    def status_text(self) -> str:
        if self.state == RUNNING and self.total_frames:
            eta = self.eta_seconds()
            left = f", about {_format_seconds(eta)} left" if eta is not None else ""
            return f"Lip-syncing: {self.done_frames} / {self.total_frames} frames{left}."
        if self.state == RUNNING:
            return "Lip-syncing: reading the video and finding the face…"
        if self.state == CHECKING:
            return "Checking the uploaded files…"
        if self.state == WAITING:
            return "Waiting for the previous job on this device to finish…"
        if self.state == LOADING:
            return "Loading the models (first job only)…"
        if self.state == DONE and self.summary is not None:
            s = self.summary
            text = f"Done: {s.frames} frames in {s.seconds:.1f} s, face found in {s.frames_with_face}."
            return f"{text} {self.message}" if self.message else text
        if self.state == CANCELLED:
            where = f" after {self.done_frames} of {self.total_frames} frames" if self.total_frames else ""
            return f"Cancelled{where}; its files were removed."
        return self.message or ""


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", text)[:64] or "anonymous"


def link_or_copy(source: Path, target: Path) -> Path:
    """Give the job its own name for an upload (a hard link: no copy, survives cache cleanup)."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
    return target


class JobManager:
    """Runs jobs one at a time (the device lock) and keeps one loaded ``LipSync`` between them.

    ``load`` makes the ``LipSync`` for a job's options (tests pass a stand-in); a job whose
    ``InferenceOptions.model_key`` differs from the loaded one's replaces it.
    """

    def __init__(
        self,
        root: Path,
        keep_seconds: float = 3600,
        load: Callable[[InferenceOptions], LipSync] = LipSync.for_options,
    ):
        self.root = Path(root)
        self.keep_seconds = keep_seconds
        self._load = load
        self._device_lock = threading.Lock()
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}  # the latest job of each session
        self._lipsync: LipSync | None = None

    def session_dir(self, session: str) -> Path:
        return self.root / "jobs" / _safe_name(session)

    def new_job_dir(self, session: str) -> Path:
        path = self.session_dir(session) / uuid.uuid4().hex[:12]
        path.mkdir(parents=True)
        return path

    def job_of(self, session: str) -> Job | None:
        with self._lock:
            return self._jobs.get(session)

    def start(self, session: str, job_dir: Path, options: InferenceOptions) -> Job:
        """Link the uploads into ``job_dir`` and start the job's thread (it waits for the device)."""
        names = {}
        for role, attr in (("video", "video"), ("audio", "audio")):
            source = getattr(options, attr)
            names[source] = f"{role} “{source.name}”"
            linked = link_or_copy(source, job_dir / f"{role}{source.suffix.lower()}")
            names[linked] = names[source]
            setattr(options, attr, linked)
        job = Job(id=job_dir.name, session=session, dir=job_dir, options=options, names=names)
        previous = self.job_of(session)
        if previous is not None and not previous.finished.is_set():
            previous.cancel.set()  # one job per session: a new Generate replaces the old one
        with self._lock:
            self._jobs[session] = job
        threading.Thread(target=self._work, args=(job,), name=f"latentsync-job-{job.id}", daemon=True).start()
        return job

    def _lipsync_for(self, options: InferenceOptions) -> LipSync:
        """The loaded models when they fit ``options``, else the old ones freed and new ones loaded."""
        if self._lipsync is not None and self._lipsync.model_key != options.model_key():
            self._lipsync.close()
            self._lipsync = None
        if self._lipsync is None:
            self._lipsync = self._load(options)
        return self._lipsync

    def _work(self, job: Job) -> None:
        try:
            check_inputs(job.options)  # before the device wait: bad files are reported at once
            job.state = WAITING
            with self._device_lock:
                if job.cancel.is_set():
                    raise Cancelled()
                job.state = LOADING
                lipsync = self._lipsync_for(job.options)
                if job.cancel.is_set():
                    raise Cancelled()
                job.state, job.running_since = RUNNING, time.monotonic()
                job.summary = lipsync.run(job.options, progress=job.on_progress, cancel=job.cancel)
            if job.summary.frames_with_face == 0:
                job.message = NO_FACE
            job.state = DONE
            logger.info("job %s done: %s", job.id, job.summary.line())
        except Cancelled:
            job.state = CANCELLED
            logger.info("job %s cancelled at frame %d of %d", job.id, job.done_frames, job.total_frames)
        except BaseException as exc:  # noqa: BLE001 - every failure becomes one sentence
            logger.warning("job %s failed: %s", job.id, exc, exc_info=logger.isEnabledFor(logging.DEBUG))
            job.state, job.message = FAILED, friendly_message(exc, job.names)
        finally:
            job.ended = time.monotonic()
            if job.state != DONE:
                shutil.rmtree(job.dir, ignore_errors=True)
            job.finished.set()

    def cancel(self, session: str, wait_seconds: float = 60) -> Job | None:
        """Stop the session's running job and wait until it has let go of the device."""
        job = self.job_of(session)
        if job is None or job.finished.is_set():
            return None
        job.cancel.set()
        job.finished.wait(wait_seconds)
        return job

    def end_session(self, session: str) -> None:
        """The page was closed: stop its job and remove everything it uploaded or produced."""
        job = self.job_of(session)
        if job is not None:
            job.cancel.set()
            job.finished.wait(60)
        with self._lock:
            self._jobs.pop(session, None)
        shutil.rmtree(self.session_dir(session), ignore_errors=True)

    def sweep(self) -> None:
        """Remove finished jobs' files once they are older than ``keep_seconds``."""
        now = time.time()
        base = self.root / "jobs"
        active = {job.dir for job in self._jobs.values() if not job.finished.is_set()}
        for job_dir in base.glob("*/*") if base.is_dir() else []:
            try:
                age = now - job_dir.stat().st_mtime
            except FileNotFoundError:
                continue
            if job_dir not in active and age > self.keep_seconds:
                shutil.rmtree(job_dir, ignore_errors=True)
        for session_dir in base.glob("*") if base.is_dir() else []:
            if session_dir.is_dir() and not any(session_dir.iterdir()):
                session_dir.rmdir()

    def start_janitor(self, every_seconds: float = 300) -> threading.Event:
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(every_seconds):
                self.sweep()

        threading.Thread(target=loop, name="latentsync-app-janitor", daemon=True).start()
        return stop

    def shutdown(self) -> None:
        for job in list(self._jobs.values()):
            job.cancel.set()
        for job in list(self._jobs.values()):
            job.finished.wait(30)
        if self._device_lock.acquire(timeout=30):  # a job that ignored its cancel keeps the models
            try:
                if self._lipsync is not None:
                    self._lipsync.close()
                    self._lipsync = None
            finally:
                self._device_lock.release()
