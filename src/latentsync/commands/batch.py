"""``latentsync batch``: lip-sync every row of a jobs CSV, locally or on a Dask cluster, resumably."""

from __future__ import annotations

import argparse
from pathlib import Path

from latentsync.commands.infer import add_job_arguments


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "batch",
        help="lip-sync many videos listed in a CSV (local processes or a Dask cluster)",
        description="Columns: video, audio, output (relative paths are relative to the CSV) and optional "
        "per-row steps, seed, guidance_scale, fps, face_index overriding the flags. Results go to "
        "<jobs>.results.csv (status ok/error, seconds, error); a rerun skips rows already done.",
    )
    p.add_argument("jobs", type=Path, help="jobs CSV")
    p.add_argument("--results", type=Path, default=None, help="results CSV (default: <jobs>.results.csv)")
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: a local cluster)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="local worker processes, each with its own models; at most one per GPU (default: %(default)s)",
    )
    add_job_arguments(p, run)


def run(args: argparse.Namespace) -> int:
    from latentsync.batch import base_options_dict, run_batch
    from latentsync.commands.infer import options_from_args
    from latentsync.errors import ConfigError

    if args.workers < 1:
        raise ConfigError(f"--workers must be >= 1, got {args.workers}")
    placeholder = Path("batch")
    options = options_from_args(
        argparse.Namespace(**vars(args), video=placeholder, audio=placeholder, output=placeholder)
    )
    options.workers, options.scheduler = 1, None  # batch spreads whole jobs over its workers
    options.validate()
    summary = run_batch(
        args.jobs,
        base_options_dict(options),
        results_csv=args.results,
        scheduler=args.scheduler,
        workers=args.workers,
        show_progress=not args.quiet,
    )
    print(summary.line())
    return 0 if summary.failed == 0 else 1
