"""Seed-compatible entry point: ``python -m scripts.train_syncnet --config_path configs/syncnet/syncnet_16_pixel.yaml``."""

from __future__ import annotations

import sys

from scripts.train_entry import forward_to_train


def main(argv: list[str] | None = None) -> int:
    return forward_to_train(
        "syncnet",
        "--config_path",
        "syncnet_16_pixel_attn",
        "Train StableSyncNet (same as `latentsync train syncnet`).",
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())
