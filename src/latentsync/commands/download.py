"""``latentsync download``: fetch the published weights into the HF cache or a folder."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from latentsync import weights
from latentsync.commands.infer import add_model_version_argument

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "download",
        help="download the published LatentSync weights (UNet, Whisper, SyncNet, VAE, insightface face models)",
        description="Fetch the published weights with huggingface_hub (resumable): the model, the VAE and the "
        "insightface buffalo_l detection + landmark files inference aligns faces with. Files go to the "
        "Hugging Face cache, or to --dir in the original checkpoints/ layout. Set HF_ENDPOINT for a mirror.",
    )
    add_model_version_argument(p, "published model version (default: %(default)s)")
    p.add_argument(
        "--auxiliary",
        nargs="*",
        default=None,
        metavar="KEY",
        help="alone: also fetch every preprocessing/eval/training-loss file (SyncNet v2, S3FD, hyperIQA, VGG, "
        f"VideoMAE, I3D); with KEYs: fetch only those files ({', '.join(weights.auxiliary_keys())})",
    )
    p.add_argument(
        "--enhancer",
        action="append",
        choices=["gfpgan", "codeformer"],
        default=None,
        help="fetch only this face restorer's standard file for `infer --enhancer` (repeatable)",
    )
    p.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="write into this folder (e.g. ./checkpoints) instead of the Hugging Face cache",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from latentsync.errors import ConfigError

    unknown = [key for key in args.auxiliary or [] if key not in weights.auxiliary_keys()]
    if unknown:
        raise ConfigError(
            f"unknown --auxiliary key(s) {', '.join(unknown)}: use {', '.join(weights.auxiliary_keys())}"
        )
    if args.dir is not None:
        args.dir.mkdir(parents=True, exist_ok=True)
    auxiliary = True if args.auxiliary == [] else (args.auxiliary or False)
    enhancers = tuple(args.enhancer or ())
    paths = weights.download_all(args.model, auxiliary=auxiliary, local_dir=args.dir, enhancers=enhancers)
    for path in paths:
        logger.info("  %s", path)
    what = f"the enhancer(s) {', '.join(enhancers)}" if enhancers else f"LatentSync {args.model}"
    logger.info("downloaded %d files for %s", len(paths), what)
    return 0
