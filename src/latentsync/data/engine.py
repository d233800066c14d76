"""Runs the stages over a folder, locally or on a Dask cluster, and writes manifest + summary.

Each stage is a barrier: all files of stage N are submitted as independent Dask tasks, and
their kept outputs become the inputs of stage N+1. GPU stages ask for one ``GPU`` worker
resource when the cluster advertises it, so at most one such task runs per GPU. Tasks are
resumable (see :mod:`latentsync.data.task`), so rerunning after a crash redoes only what was
not finished.
"""

from __future__ import annotations

import copy
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from latentsync import weights
from latentsync.data.manifest import MANIFEST_NAME, ManifestEntry, relative_to_root, write_manifest
from latentsync.data.stage import KEPT, Settings, StageRecord
from latentsync.data.stages import STAGE_NAMES, STAGES, get_stage
from latentsync.data.summary import (
    HISTOGRAM_NAME,
    RunSummary,
    save_duration_histogram,
    save_summary,
    stage_stats,
    summarize,
)
from latentsync.data.task import run_stage_task
from latentsync.errors import InputError, MissingWeightsError
from latentsync.face.installed import resolve_detector_name
from latentsync.registry import check_names

logger = logging.getLogger(__name__)

VIDEO_SUFFIXES = {".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v"}
RECORDS_DIR = ".preprocess_records"
MANIFEST_FIELDS = ("duration", "sync_offset", "sync_conf", "iqa_score")


class InlineExecutor:
    """Runs tasks one after the other in this process (debugging, tiny inputs)."""

    def map(self, fn: Callable, calls: Sequence[tuple], gpu: bool, desc: str) -> list[Any]:
        return [fn(*args) for args in tqdm(calls, desc=desc, unit="file", leave=False)]


class DaskExecutor:
    """Submits one task per file to a ``distributed.Client`` and gathers them in order."""

    def __init__(self, client: Any):
        self.client = client
        workers = client.scheduler_info().get("workers", {}).values()
        self.has_gpu_resources = any(w.get("resources", {}).get("GPU") for w in workers)

    def map(self, fn: Callable, calls: Sequence[tuple], gpu: bool, desc: str) -> list[Any]:
        from distributed import as_completed

        resources = {"GPU": 1} if gpu and self.has_gpu_resources else None
        futures = [self.client.submit(fn, *args, pure=False, resources=resources) for args in calls]
        for future in tqdm(as_completed(futures), total=len(futures), desc=desc, unit="file", leave=False):
            if future.status == "error":
                future.result()  # raises the worker's exception here (e.g. missing weights)
        return [future.result() for future in futures]


@contextmanager
def dask_executor(
    workers: int | None = None, scheduler: str | None = None, gpus: int | None = None
) -> Iterator[DaskExecutor]:
    """A client on ``scheduler`` (``tcp://host:8786``) or on a fresh local process cluster."""
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler) as client:
            yield DaskExecutor(client)
        return
    workers = workers or os.cpu_count() or 1
    if gpus is None:
        from latentsync.device import cuda_count  # torch: only once a run starts, not for `--help`

        gpus = cuda_count()
    with LocalCluster(
        host="127.0.0.1",
        n_workers=0 if gpus else workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
    ) as cluster:
        if gpus:
            add_workers_with_gpus(cluster, workers, gpus)
        with Client(cluster) as client:
            client.wait_for_workers(workers)
            yield DaskExecutor(client)


def add_workers_with_gpus(cluster: Any, workers: int, gpus: int) -> None:
    """Workers 0..gpus-1 each own one GPU (``CUDA_VISIBLE_DEVICES``) and a ``GPU: 1`` resource."""
    for index in range(workers):
        spec = copy.deepcopy(cluster.new_spec)
        if index < gpus:
            spec["options"]["resources"] = {"GPU": 1}
            spec["options"]["env"] = {"CUDA_VISIBLE_DEVICES": str(index)}
        cluster.worker_spec[f"worker-{index}"] = spec
    cluster.sync(cluster._correct_state)


@dataclass
class Item:
    """A file flowing through the stages, with where it came from and what was measured."""

    path: str
    rel: str
    source: str
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class PipelineResult:
    manifest: Path
    summary: RunSummary
    entries: list[ManifestEntry]


def gather_videos(input_dir: Path) -> list[Path]:
    return sorted(
        p
        for p in input_dir.rglob("*")
        if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES and not p.name.startswith(".")
    )


def default_output_root(input_dir: Path) -> Path:
    """The seed writes ``resampled/``, ``shot/``, ... next to the input folder."""
    return input_dir.resolve().parent


def entry_for(item: Item, stage: str, status: str, reason: str | None, root: Path) -> ManifestEntry:
    values = {k: item.info.get(k) for k in MANIFEST_FIELDS}
    return ManifestEntry(
        source=item.source,
        clip=relative_to_root(item.path, root),
        status=status,
        stage=stage,
        reason=reason,
        **values,
    )


def next_items(item: Item, record: StageRecord, folder_root: Path | None) -> list[Item]:
    info = dict(item.info)
    info.update({k: v for k, v in record.measurements.items() if k in MANIFEST_FIELDS})
    durations = record.measurements.get("output_durations") or []
    children = []
    for index, output in enumerate(record.outputs):
        rel = Path(output).relative_to(folder_root).as_posix() if folder_root else item.rel
        child_info = dict(info)
        if index < len(durations):
            child_info["duration"] = durations[index]
        children.append(Item(output, rel, item.source, child_info))
    return children


def resolve_stage_weights(needed: dict[str, list[str]], aux_dir: str | None) -> dict[str, str]:
    """Absolute paths of the auxiliary files (by key) each stage needs, through the shared resolver;
    a missing file's message also names the ``--skip-stage`` that avoids it."""

    keys = list(dict.fromkeys(key for keys in needed.values() for key in keys))
    if not keys:
        return {}
    try:
        found = weights.resolve_aux(keys, aux_dir)
    except MissingWeightsError as exc:
        skips = " ".join(f"--skip-stage {stage}" for stage in needed)
        raise MissingWeightsError(exc.missing, message=f"{exc}; or {skips}") from None
    return {key: str(path.resolve()) for key, path in found.items()}


def run_pipeline(
    input_dir: str | Path,
    output_root: str | Path | None = None,
    settings: Settings | None = None,
    skip: Sequence[str] = (),
    executor: Any | None = None,
) -> PipelineResult:
    """Run every stage not in ``skip`` over the videos under ``input_dir``."""
    input_dir = Path(input_dir).resolve()
    if not input_dir.is_dir():
        raise InputError(f"input folder not found: {input_dir}")
    check_names(STAGES, skip, "stage")
    root = Path(output_root).resolve() if output_root else default_output_root(input_dir)
    settings = settings or Settings()
    stages = [name for name in STAGE_NAMES if name not in skip]
    needed = {name: get_stage(name).required_weights(settings) for name in stages}
    settings.weights = resolve_stage_weights({k: v for k, v in needed.items() if v}, settings.aux_dir)
    if "affine" in stages:  # decide ``auto`` once here, not in every worker
        settings.detector = resolve_detector_name(settings.detector, settings.aux_dir)
    executor = executor or InlineExecutor()

    items = [
        Item(str(p), p.relative_to(input_dir).as_posix(), relative_to_root(p, root))
        for p in gather_videos(input_dir)
    ]
    logger.info("%d videos under %s; outputs under %s", len(items), input_dir, root)
    entries: list[ManifestEntry] = []
    all_stats = []
    last = "none"
    for name in stages:
        stage = get_stage(name)
        folder = stage.folder(settings)
        folder_root = root / folder if folder else None
        calls = []
        for item in items:
            dst = (folder_root / item.rel).with_suffix(".mp4") if folder_root else Path(item.path)
            record_path = root / RECORDS_DIR / name / f"{item.rel}.json"
            calls.append((name, item.path, str(dst), str(record_path), str(root), settings))
        results = executor.map(run_stage_task, calls, gpu=stage.uses_gpu, desc=name) if calls else []
        records = [StageRecord.from_json(r["record"]) for r in results]
        all_stats.append(stage_stats(name, [r["record"] for r in results], [r["computed"] for r in results]))
        survivors = []
        for item, record in zip(items, records):
            if record.status == KEPT:
                survivors.extend(next_items(item, record, folder_root))
            else:
                item.info.update({k: v for k, v in record.measurements.items() if k in MANIFEST_FIELDS})
                entries.append(entry_for(item, name, record.status, record.reason, root))
        items = survivors
        last = name
        logger.info("stage %s: %d in, %d out", name, len(calls), len(items))
    entries.extend(entry_for(item, last, KEPT, None, root) for item in items)
    manifest = write_manifest(entries, root / MANIFEST_NAME)
    summary = summarize(all_stats, entries)
    save_summary(summary, root)
    save_duration_histogram([e.duration or 0.0 for e in entries if e.status == KEPT], root / HISTOGRAM_NAME)
    return PipelineResult(manifest, summary, entries)
