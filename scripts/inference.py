"""``python -m scripts.inference``: the original's inference flags, forwarded to ``latentsync infer``."""

from __future__ import annotations

import argparse
import sys

from latentsync.cli import main as cli_main
from latentsync.config import load_config
from latentsync.errors import LatentSyncError
from latentsync.pipeline.options import option_default


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m scripts.inference", description=__doc__)
    p.add_argument("--unet_config_path", default="configs/unet/stage2_512.yaml")
    p.add_argument("--inference_ckpt_path", default=None)
    p.add_argument("--video_path", required=True)
    p.add_argument("--audio_path", required=True)
    p.add_argument("--video_out_path", required=True)
    p.add_argument("--inference_steps", type=int, default=option_default("steps"))
    p.add_argument("--guidance_scale", type=float, default=option_default("guidance_scale"))
    p.add_argument(
        "--temp_dir", default="temp", help="accepted for compatibility; work files sit beside the output"
    )
    p.add_argument("--seed", type=int, default=option_default("seed"))
    p.add_argument("--enable_deepcache", action="store_true")
    return p.parse_args(argv)


def model_for_config(config_path: str) -> str:
    """The published version trained at the config's resolution (512 px: 1.6, else 1.5)."""
    return "1.6" if int(load_config(config_path, "unet").data.resolution) == 512 else "1.5"


def infer_argv(args: argparse.Namespace) -> list[str]:
    """The seed's flags as ``latentsync infer`` arguments."""
    argv = ["infer", "--video", args.video_path, "--audio", args.audio_path, "--output", args.video_out_path]
    argv += ["--model", model_for_config(args.unet_config_path), "--unet-config", args.unet_config_path]
    if args.inference_ckpt_path:
        argv += ["--unet-checkpoint", args.inference_ckpt_path]
    argv += ["--steps", str(args.inference_steps), "--guidance-scale", str(args.guidance_scale)]
    argv += ["--seed", str(args.seed)]
    if args.enable_deepcache:
        argv.append("--deepcache")
    return argv


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        forwarded = infer_argv(args)
    except LatentSyncError as exc:  # a config that cannot be read: the CLI's one line
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return cli_main(forwarded)


if __name__ == "__main__":
    raise SystemExit(main())
