"""Many lip-sync jobs from a CSV, on a Dask cluster or a local one, resumable.

Each worker process keeps one ``LipSync`` per ``InferenceOptions.model_key`` (weights, device,
dtype) in a module-level cache, so a worker loads the weights once however many jobs it runs. A results CSV records every
finished row (status ok/error, seconds, error message); on a rerun, rows whose status is ok and
whose output exists are skipped, failed rows are tried again. Only the client writes the results,
atomically after every finished job, so a killed batch loses no recorded result.
"""

from __future__ import annotations

import csv
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from latentsync.api import LipSync
from latentsync.errors import InputError
from latentsync.pipeline.device import cuda_count
from latentsync.pipeline.options import InferenceOptions

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("video", "audio", "output")
ROW_OPTIONS: dict[str, Callable[[str], object]] = {
    "steps": int,
    "seed": int,
    "guidance_scale": float,
    "fps": float,
    "face_index": int,
}
RESULT_COLUMNS = ("row", "video", "audio", "output", "status", "seconds", "error")


@dataclass
class BatchJob:
    row: int  # 1-based data row of the jobs CSV
    video: Path
    audio: Path
    output: Path
    overrides: dict = field(default_factory=dict)


@dataclass
class BatchSummary:
    ok: int = 0
    failed: int = 0
    skipped: int = 0
    results_csv: Path | None = None

    def line(self) -> str:
        return (
            f"{self.ok} ok, {self.failed} failed, {self.skipped} skipped (already done) -> {self.results_csv}"
        )


def _resolve(base: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def read_jobs(jobs_csv: Path) -> list[BatchJob]:
    """Rows of the jobs CSV; relative paths are relative to the CSV's folder."""
    jobs_csv = Path(jobs_csv)
    if not jobs_csv.is_file():
        raise InputError(f"jobs file not found: {jobs_csv}")
    with open(jobs_csv, newline="") as f:
        reader = csv.DictReader(f)
        columns = [c.strip() for c in reader.fieldnames or []]
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        if missing:
            raise InputError(
                f"{jobs_csv}: missing column(s) {', '.join(missing)} (have: {', '.join(columns)})"
            )
        unknown = [c for c in columns if c not in REQUIRED_COLUMNS and c not in ROW_OPTIONS]
        if unknown:
            raise InputError(
                f"{jobs_csv}: unknown column(s) {', '.join(unknown)}; per-row options: {', '.join(ROW_OPTIONS)}"
            )
        rows = [{k.strip(): (v or "").strip() for k, v in r.items() if k is not None} for r in reader]
    base = jobs_csv.resolve().parent
    jobs, outputs = [], set()
    for number, row in enumerate(rows, start=1):
        if not any(row.values()):
            continue  # a blank line
        empty = [c for c in REQUIRED_COLUMNS if not row.get(c)]
        if empty:
            raise InputError(f"{jobs_csv} row {number}: empty {', '.join(empty)}")
        overrides = {}
        for name, parse in ROW_OPTIONS.items():
            if row.get(name):
                try:
                    overrides[name] = parse(row[name])
                except ValueError:
                    raise InputError(
                        f"{jobs_csv} row {number}: {name}={row[name]!r} is not a number"
                    ) from None
        job = BatchJob(
            number,
            _resolve(base, row["video"]),
            _resolve(base, row["audio"]),
            _resolve(base, row["output"]),
            overrides,
        )
        if job.output in outputs:
            raise InputError(f"{jobs_csv} row {number}: output {job.output} is used by an earlier row")
        outputs.add(job.output)
        jobs.append(job)
    return jobs


def default_results_path(jobs_csv: Path) -> Path:
    jobs_csv = Path(jobs_csv)
    return jobs_csv.with_name(f"{jobs_csv.stem}.results.csv")


def read_results(results_csv: Path) -> dict[str, dict]:
    """Earlier results by output path (missing file: none)."""
    if not Path(results_csv).is_file():
        return {}
    with open(results_csv, newline="") as f:
        return {r["output"]: r for r in csv.DictReader(f) if r.get("output")}


def write_results(results_csv: Path, results: dict[str, dict]) -> None:
    tmp = Path(results_csv).with_name(f".{Path(results_csv).name}.tmp")
    ordered = sorted(results.values(), key=lambda r: int(r.get("row") or 0))
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=RESULT_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(ordered)
    os.replace(tmp, results_csv)


def is_done(job: BatchJob, earlier: dict[str, dict]) -> bool:
    result = earlier.get(str(job.output))
    return result is not None and result.get("status") == "ok" and job.output.exists()


# --- worker side -------------------------------------------------------------------------------

_LIPSYNCS: dict[tuple, LipSync] = {}
_LIPSYNCS_LOCK = threading.Lock()


def worker_device(device: str) -> str:
    """With several GPUs, spread the workers of one machine over them (by worker name)."""
    if device not in ("auto", "cuda"):
        return device
    count = cuda_count()
    if count <= 1:
        return device
    try:
        from distributed import get_worker

        name = str(get_worker().name)
    except (ImportError, ValueError):
        return device
    index = int(name) if name.isdigit() else sum(name.encode())
    return f"cuda:{index % count}"


def cached_lipsync(options: InferenceOptions) -> LipSync:
    """One loaded ``LipSync`` per model key in this process."""
    key = options.model_key()
    with _LIPSYNCS_LOCK:
        if key not in _LIPSYNCS:
            logger.info("worker %d: loading models %s", os.getpid(), key)
            _LIPSYNCS[key] = LipSync.for_options(options)
        return _LIPSYNCS[key]


def run_job(job: BatchJob, base_options: dict) -> dict:
    """Run one row (on a worker); never raises: failures come back as status ``error``."""
    started = time.monotonic()
    result = {"row": job.row, "video": str(job.video), "audio": str(job.audio), "output": str(job.output)}
    try:
        settings = dict(base_options, **job.overrides)
        settings.update(video=job.video, audio=job.audio, output=job.output, quiet=True)
        settings["device"] = worker_device(settings.get("device", "auto"))
        options = InferenceOptions(**settings)
        options.validate()
        cached_lipsync(options).run(options)
        result.update(status="ok", error="")
    except Exception as exc:  # noqa: BLE001 - recorded in the results, the batch goes on
        logger.debug("row %d failed", job.row, exc_info=True)
        result.update(status="error", error=f"{type(exc).__name__}: {exc}".splitlines()[0])
    result["seconds"] = f"{time.monotonic() - started:.1f}"
    return result


# --- client side -------------------------------------------------------------------------------


def base_options_dict(options: InferenceOptions) -> dict:
    """The batch-wide ``InferenceOptions`` fields (the per-job paths come from the CSV)."""
    data = asdict(options)
    for key in ("video", "audio", "output"):
        data.pop(key)
    return data


def local_worker_count(workers: int, device: str) -> int:
    """At most one local worker per GPU: two workers on one card would each load every model and fight
    over its memory (worker_device spreads the workers over the cards)."""
    if device == "cpu" or device == "mps":
        return workers
    gpus = cuda_count()
    if device.startswith("cuda:"):
        gpus = min(gpus, 1)
    if gpus and workers > gpus:
        logger.warning("--workers %d on %d GPU(s): starting %d (one per GPU)", workers, gpus, gpus)
        return gpus
    return workers


def _client(scheduler: str | None, workers: int):
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


def run_batch(
    jobs_csv: Path,
    base_options: dict,
    results_csv: Path | None = None,
    scheduler: str | None = None,
    workers: int = 1,
    show_progress: bool = True,
) -> BatchSummary:
    """Run the rows of ``jobs_csv`` not finished yet; returns counts and where the results are."""
    from distributed import as_completed
    from tqdm import tqdm

    jobs = read_jobs(jobs_csv)
    results_csv = Path(results_csv) if results_csv else default_results_path(jobs_csv)
    results = read_results(results_csv)
    pending = [job for job in jobs if not is_done(job, results)]
    summary = BatchSummary(skipped=len(jobs) - len(pending), results_csv=results_csv)
    if summary.skipped:
        logger.info("%d of %d rows already done", summary.skipped, len(jobs))
    bar = tqdm(total=len(jobs), initial=summary.skipped, unit="job", desc="batch", disable=not show_progress)
    try:
        if pending:
            client, cluster = _client(
                scheduler, local_worker_count(workers, base_options.get("device", "auto"))
            )
            try:
                futures = [client.submit(run_job, job, base_options, pure=False) for job in pending]
                for future in as_completed(futures):
                    result = future.result()
                    results[result["output"]] = result
                    write_results(results_csv, results)
                    if result["status"] == "ok":
                        summary.ok += 1
                    else:
                        summary.failed += 1
                        logger.warning("row %s failed: %s", result["row"], result["error"])
                    bar.update(1)
            finally:
                client.close()
                if cluster is not None:
                    cluster.close()
        else:
            write_results(results_csv, results)
    finally:
        bar.close()
    return summary
