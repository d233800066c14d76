"""Many lip-sync jobs from a CSV, on a Dask cluster or a local one, resumable.

Every row is split into segments that any worker renders (pipeline/workers.py); each worker keeps
one model set per ``InferenceOptions.model_key`` (weights, device, dtype), so it loads the weights
once however many jobs it serves. A results CSV records every
finished row (status ok/error, seconds, error message); on a rerun, rows whose status is ok and
whose output exists are skipped, failed rows are tried again. Only the client writes the results,
atomically after every finished job, so a killed batch loses no recorded result.
"""

from __future__ import annotations

import csv
import logging
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from latentsync.device import local_devices
from latentsync.errors import InputError
from latentsync.pipeline.options import InferenceOptions
from latentsync.pipeline.workers import SegmentedJob, dask_client, one_worker_per_gpu

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


# --- client side -------------------------------------------------------------------------------


def base_options_dict(options: InferenceOptions) -> dict:
    """The batch-wide ``InferenceOptions`` fields (the per-job paths come from the CSV)."""
    data = asdict(options)
    for key in ("video", "audio", "output"):
        data.pop(key)
    return data


def job_options(job: BatchJob, base_options: dict) -> InferenceOptions:
    settings = dict(base_options, **job.overrides)
    settings.update(
        video=job.video, audio=job.audio, output=job.output, quiet=True, workers=1, scheduler=None
    )
    options = InferenceOptions(**settings)
    options.validate()
    return options


def batch_devices(device: str, workers: int) -> list[str]:
    """The local workers' devices: one per GPU with ``auto``/``cuda`` (never two on one card), else
    ``workers`` times the given device."""
    spec = "auto" if device in ("auto", "cuda") else device
    return one_worker_per_gpu(local_devices(spec, workers))


class _Row:
    """One CSV row in flight: its segmented job and its result line."""

    def __init__(self, job: BatchJob):
        self.job = job
        self.segmented = None
        self.futures: list = []
        self.result = {
            "row": job.row,
            "video": str(job.video),
            "audio": str(job.audio),
            "output": str(job.output),
        }
        self.started = time.monotonic()

    def ended(self, error: BaseException | None) -> dict:
        if error is None:
            self.result.update(status="ok", error="")
        else:
            logger.debug("row %d failed", self.job.row, exc_info=error)
            self.result.update(status="error", error=f"{type(error).__name__}: {error}".splitlines()[0])
            for future in self.futures:
                future.cancel()
        self.result["seconds"] = f"{time.monotonic() - self.started:.1f}"
        return self.result


def run_batch(
    jobs_csv: Path,
    base_options: dict,
    results_csv: Path | None = None,
    scheduler: str | None = None,
    workers: int = 1,
    show_progress: bool = True,
) -> BatchSummary:
    """Run the rows of ``jobs_csv`` not finished yet; returns counts and where the results are.

    Every row is cut into segments (pipeline/workers.py) and all rows' segments share the workers,
    so one long video no longer holds one worker while the others idle. Faces are found here, row
    after row, while the workers render the rows already submitted.
    """
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
    owners: dict[str, _Row] = {}

    def done(row: _Row, error: BaseException | None = None) -> None:
        result = row.ended(error)
        results[result["output"]] = result
        write_results(results_csv, results)
        if error is None:
            summary.ok += 1
        else:
            summary.failed += 1
            logger.warning("row %s failed: %s", result["row"], result["error"])
        bar.update(1)

    def settle(future) -> None:
        row = owners.pop(future.key, None)
        if row is None or row.result.get("status"):
            return  # a row that already failed
        try:
            row.segmented.record(future.result())
            if not row.segmented.todo:
                row.segmented.finish()
                done(row)
        except Exception as exc:  # noqa: BLE001 - recorded in the results, the batch goes on
            done(row, exc)

    try:
        if not pending:
            write_results(results_csv, results)
            return summary
        devices = None if scheduler else batch_devices(base_options.get("device", "auto"), workers)
        client, cluster = dask_client(scheduler, len(devices or []))
        try:
            running = as_completed()
            for job in pending:
                row = _Row(job)
                try:
                    row.segmented = SegmentedJob(job_options(job, base_options), devices)
                    row.futures = row.segmented.submit(client)
                    if not row.futures:  # every segment was already there: only the join is left
                        row.segmented.finish()
                        done(row)
                except Exception as exc:  # noqa: BLE001 - recorded in the results, the batch goes on
                    done(row, exc)
                for future in row.futures:
                    owners[future.key] = row
                    running.add(future)
                while running.has_ready():
                    for future in running.next_batch(block=False):
                        settle(future)
            for future in running:
                settle(future)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    finally:
        bar.close()
    return summary
