"""The seed's ``python -m preprocess.data_processing_pipeline`` flags, mapped onto ``latentsync preprocess``.

``--total_num_workers`` becomes the local Dask worker count; ``--per_gpu_num_workers`` and
``--temp_dir`` are accepted for compatibility (GPU stages run one task per GPU, temp files live
next to their outputs).
"""

from __future__ import annotations

import argparse
import os

from latentsync.cli import main as cli_main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--total_num_workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--per_gpu_num_workers", type=int, default=1)
    parser.add_argument("--resolution", type=int, default=256)
    parser.add_argument("--sync_conf_threshold", type=float, default=3)
    parser.add_argument("--temp_dir", type=str, default="temp")
    parser.add_argument("--input_dir", type=str, required=True)
    parser.add_argument("--aux_dir", type=str, default=None)
    return parser.parse_args(argv)


def cli_arguments(args: argparse.Namespace) -> list[str]:
    argv = [
        "preprocess",
        "--input-dir",
        args.input_dir,
        "--resolution",
        str(args.resolution),
        "--sync-conf-threshold",
        str(args.sync_conf_threshold),
        "--workers",
        str(args.total_num_workers),
    ]
    if args.aux_dir:
        argv += ["--aux-dir", args.aux_dir]
    return argv


def main(argv: list[str] | None = None) -> int:
    return cli_main(cli_arguments(parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
