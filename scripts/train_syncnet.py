"""Seed-compatible entry point: ``python -m scripts.train_syncnet --config_path configs/syncnet/syncnet_16_pixel.yaml``."""

from __future__ import annotations

import argparse
import sys

from latentsync.cli import main as cli_main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train StableSyncNet (same as `latentsync train syncnet`).")
    parser.add_argument("--config_path", default="syncnet_16_pixel_attn", help="config name or YAML path")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    extra = [item for kv in args.overrides for item in ("--set", kv)]
    return cli_main(["train", "syncnet", "--config", args.config_path, *extra])


if __name__ == "__main__":
    sys.exit(main())
