"""Seed-compatible entry point: ``python -m scripts.train_unet --unet_config_path configs/unet/stage2.yaml``."""

from __future__ import annotations

import sys

from scripts.train_entry import forward_to_train


def main(argv: list[str] | None = None) -> int:
    return forward_to_train(
        "unet",
        "--unet_config_path",
        "stage2",
        "Train the LatentSync UNet (same as `latentsync train unet`).",
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())
