"""``python -m scripts.inference``: the original's inference flags, run through ``latentsync infer``."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from latentsync.cli import configure_logging
from latentsync.commands.infer import validate
from latentsync.config import load_config
from latentsync.errors import LatentSyncError
from latentsync.pipeline.options import InferenceOptions

logger = logging.getLogger(__name__)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m scripts.inference", description=__doc__)
    p.add_argument("--unet_config_path", default="configs/unet/stage2_512.yaml")
    p.add_argument("--inference_ckpt_path", default=None)
    p.add_argument("--video_path", required=True)
    p.add_argument("--audio_path", required=True)
    p.add_argument("--video_out_path", required=True)
    p.add_argument("--inference_steps", type=int, default=20)
    p.add_argument("--guidance_scale", type=float, default=1.5)
    p.add_argument(
        "--temp_dir", default="temp", help="accepted for compatibility; work files sit beside the output"
    )
    p.add_argument("--seed", type=int, default=1247)
    p.add_argument("--enable_deepcache", action="store_true")
    return p.parse_args(argv)


def options_from_seed_args(args: argparse.Namespace) -> InferenceOptions:
    config = load_config(args.unet_config_path, "unet")
    model = "1.6" if int(config.data.resolution) == 512 else "1.5"
    return InferenceOptions(
        video=Path(args.video_path),
        audio=Path(args.audio_path),
        output=Path(args.video_out_path),
        model=model,
        unet_config=args.unet_config_path,
        unet_checkpoint=args.inference_ckpt_path,
        steps=args.inference_steps,
        guidance_scale=args.guidance_scale,
        seed=args.seed,
        deepcache=args.enable_deepcache,
    )


def main(argv: list[str] | None = None) -> int:
    from latentsync.pipeline.runner import run_inference

    args = parse_args(argv)
    configure_logging(False)
    try:
        options = options_from_seed_args(args)
        validate(options)
        summary = run_inference(options)
    except LatentSyncError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(summary.line())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
