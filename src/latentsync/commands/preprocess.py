"""``latentsync preprocess``: raw talking-head videos -> training clips, locally or on Dask."""

from __future__ import annotations

import argparse
import logging
import sys

from latentsync.commands.infer import add_face_arguments
from latentsync.data.engine import InlineExecutor, dask_executor, run_pipeline
from latentsync.data.stage import Settings
from latentsync.data.stages import STAGE_NAMES

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("preprocess", help="build training clips from a folder of raw videos")
    add_arguments(parser)
    parser.set_defaults(func=run)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input-dir", required=True, help="folder of raw videos (searched recursively)")
    parser.add_argument(
        "--output-root", help="where stage folders and manifest.jsonl go (default: next to input)"
    )
    parser.add_argument("--resolution", type=int, default=256, choices=(256, 512), help="aligned face size")
    parser.add_argument("--sync-conf-threshold", type=float, default=3.0, help="minimum SyncNet confidence")
    parser.add_argument(
        "--skip-stage",
        action="append",
        default=[],
        choices=STAGE_NAMES,
        metavar="NAME",
        help=f"skip a stage (repeatable): {', '.join(STAGE_NAMES)}",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="local Dask worker processes (default: CPU count; 0 runs in this process)",
    )
    parser.add_argument("--scheduler", help="address of an existing Dask scheduler, e.g. tcp://host:8786")
    add_face_arguments(parser, flag="--detector")
    parser.add_argument(
        "--aux-dir",
        help="folder with auxiliary weights (syncnet_v2.model, sfd_face.pth, koniq_pretrained.pkl, "
        "models/buffalo_l/*.onnx); searched before $LATENTSYNC_CHECKPOINTS, ./checkpoints and the HF cache",
    )


def settings_from_args(args: argparse.Namespace) -> Settings:
    return Settings(
        resolution=args.resolution,
        sync_conf_threshold=args.sync_conf_threshold,
        detector=args.face_detector,
        face_threshold=args.face_threshold,
        aux_dir=args.aux_dir,
    )


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    kwargs = dict(output_root=args.output_root, settings=settings, skip=args.skip_stage)
    if args.workers == 0 and not args.scheduler:
        result = run_pipeline(args.input_dir, executor=InlineExecutor(), **kwargs)
    else:
        with dask_executor(args.workers, args.scheduler) as executor:
            result = run_pipeline(args.input_dir, executor=executor, **kwargs)
    sys.stdout.write(result.summary.text() + "\n")
    sys.stdout.write(f"manifest: {result.manifest}\n")
    return 0
