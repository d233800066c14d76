"""``latentsync`` command line: one subcommand module per job, user errors as one line + exit 2."""

from __future__ import annotations

import argparse
import errno
import importlib
import logging
import os
import sys

from latentsync import __version__
from latentsync.errors import LatentSyncError

logger = logging.getLogger("latentsync")

_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)  # OSError numbers reported as "disk full", not a crash

# Subcommand modules under latentsync.commands, in the order --help lists them.
COMMANDS = ("demo", "infer", "faces", "download", "app", "batch", "preprocess", "fileslist", "train", "eval")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="latentsync",
        description="Audio-driven lip-sync with LatentSync 1.5/1.6 weights, any length and resolution.",
    )
    parser.add_argument("--version", action="version", version=f"latentsync {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging and full tracebacks")
    subparsers = parser.add_subparsers(dest="command", metavar="<command>")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"latentsync.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"latentsync.commands.{name}":
                continue  # not part of this build
            raise
        module.register(subparsers)
    return parser


def configure_logging(verbose: bool, quiet: bool = False) -> None:
    level = logging.DEBUG if verbose else (logging.WARNING if quiet else logging.INFO)
    logging.basicConfig(
        level=level,
        format="%(message)s" if not verbose else "%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
    for noisy in (
        "httpx",
        "httpx2",
        "httpcore",
        "urllib3",
        "filelock",
        "matplotlib",
        "PIL",
        "numba",
        "distributed",
        "asyncio",
        "huggingface_hub",
    ):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def _out_of_memory(exc: BaseException):
    if not isinstance(exc, (MemoryError, RuntimeError)):
        return None
    from latentsync.pipeline.oom import as_out_of_memory

    return as_out_of_memory(exc, "this command")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    configure_logging(args.verbose or bool(os.environ.get("LATENTSYNC_DEBUG")), getattr(args, "quiet", False))
    try:
        return int(args.func(args) or 0)
    except LatentSyncError as exc:
        if args.verbose:
            logger.exception("")
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        oom = _out_of_memory(exc)
        if oom is not None:  # raised outside a guarded stage: still one line, exit 2
            if args.verbose:
                logger.exception("")
            print(f"error: {oom}", file=sys.stderr)
            return oom.exit_code
        if isinstance(exc, OSError) and exc.errno in _DISK_FULL:
            if args.verbose:
                logger.exception("")
            print(
                f"error: disk full (no space left on device) while writing {exc.filename or 'the output'}: "
                "free some space and run the same command again (finished work is kept)",
                file=sys.stderr,
            )
            return 2
        if args.verbose:
            raise
        logger.debug("internal error", exc_info=True)
        print(
            f"internal error: {type(exc).__name__}: {exc} (rerun with --verbose for details)", file=sys.stderr
        )
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
