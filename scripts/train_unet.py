"""Seed-compatible entry point: ``python -m scripts.train_unet --unet_config_path configs/unet/stage2.yaml``."""

from __future__ import annotations

import argparse
import sys

from latentsync.cli import main as cli_main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Train the LatentSync UNet (same as `latentsync train unet`)."
    )
    parser.add_argument("--unet_config_path", default="stage2", help="config name or YAML path")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    extra = [item for kv in args.overrides for item in ("--set", kv)]
    return cli_main(["train", "unet", "--config", args.unet_config_path, *extra])


if __name__ == "__main__":
    sys.exit(main())
