"""``latentsync fileslist``: write the training file list from processed clip folders."""

from __future__ import annotations

import argparse
import logging

from latentsync.data.fileslist import write_fileslist

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("fileslist", help="write the training file list (one clip path per line)")
    parser.add_argument(
        "--input-dir",
        action="append",
        required=True,
        help="folder of clips (e.g. high_visual_quality); repeat for several datasets",
    )
    parser.add_argument("--output", required=True, help="file list to write")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    count = write_fileslist(args.input_dir, args.output)
    logger.info("wrote %d clips to %s", count, args.output)
    return 0
