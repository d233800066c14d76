"""``python -m tools.write_fileslist --output FILE DIR [DIR ...]``: the training file list."""

from __future__ import annotations

import argparse

from latentsync.cli import main as cli_main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", required=True, help="file list to write")
    parser.add_argument(
        "dataset_dirs", nargs="+", help="folders of processed clips (e.g. high_visual_quality)"
    )
    args = parser.parse_args(argv)
    cli_argv = ["fileslist", "--output", args.output]
    for folder in args.dataset_dirs:
        cli_argv += ["--input-dir", folder]
    return cli_main(cli_argv)


if __name__ == "__main__":
    raise SystemExit(main())
