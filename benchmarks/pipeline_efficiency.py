"""How much of a lip-sync run's wall time is model time, and the busy time of every stage per frame.

Run from the repo root: ``python -m benchmarks.pipeline_efficiency [--models full|tiny]
[--resolutions 1080p 4K] [--frames 16] [--steps 1]``.

``full``: the published architectures at full size with deterministic weights from the golden
fixtures (stage2_512 UNet, SD VAE sd-vae-ft-mse layout) and the tiny-layout Whisper (its cost is
negligible either way). ``tiny``: the test models, to see the non-model stages alone. Models are
loaded before the clock starts; the input is demo1 (1080x1920) or demo1 upscaled to 2160x3840.
Stages run on their own threads, so model time / wall time near 1 means the decode, face, paste
and encode work is hidden behind the model.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
from pathlib import Path

import cv2
import torch

from latentsync.pipeline.model_loading import load_inference_models
from latentsync.pipeline.options import InferenceOptions
from latentsync.pipeline.runner import run_inference
from latentsync.pipeline.timing import STAGES, StageTimes
from tests.helpers import golden, media
from tests.helpers.tiny_models import unet_state, write_tiny_models

logger = logging.getLogger("benchmarks.pipeline_efficiency")

SIZES = {"1080p": (1080, 1920), "4K": (2160, 3840)}  # width, height (portrait, as the demos)


def write_full_models(folder: Path) -> dict[str, str]:
    """stage2_512 UNet .pt and an SD-layout VAE folder with deterministic weights; tiny Whisper."""
    from latentsync.models.vae import sd_vae

    tiny = write_tiny_models(folder / "tiny")
    torch.save({"state_dict": unet_state("unet_stage2"), "global_step": 0}, folder / "unet_stage2_512.pt")
    vae = sd_vae()
    vae.load_state_dict(golden.fill("vae_sd_ft_mse"), strict=True)
    vae.save_pretrained(folder / "vae_sd")
    return {
        "unet_config": "stage2_512",
        "unet_checkpoint": str(folder / "unet_stage2_512.pt"),
        "vae": str(folder / "vae_sd"),
        "whisper": str(tiny / "whisper_tiny.pt"),
    }


def write_tiny(folder: Path) -> dict[str, str]:
    tiny = write_tiny_models(folder / "tiny")
    return {
        "unet_config": str(tiny / "unet_tiny.yaml"),
        "unet_checkpoint": str(tiny / "unet_tiny.pt"),
        "vae": str(tiny / "vae"),
        "whisper": str(tiny / "whisper_tiny.pt"),
    }


def write_input(folder: Path, size: str, frames: int) -> tuple[Path, Path]:
    width, height = SIZES[size]
    clip = [
        cv2.resize(f, (width, height), interpolation=cv2.INTER_CUBIC) if f.shape[1] != width else f
        for f in media.demo_frames(frames, size=(1080, 1920))
    ]
    video = media.write_video(folder / f"demo_{size}.mp4", clip)
    audio = media.write_audio(folder / "speech.wav", media.demo_audio(frames / 25, start=2.0))
    return video, audio


def run_once(model_paths: dict, video: Path, audio: Path, output: Path, steps: int, models=None):
    options = InferenceOptions(
        video=video,
        audio=audio,
        output=output,
        device="cpu",
        steps=steps,
        quiet=True,
        resume=False,
        **model_paths,
    )
    models = models or load_inference_models(options)
    times = StageTimes()
    summary = run_inference(options, models=models, timings=times)
    return summary, times, models


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", choices=("full", "tiny"), default="full")
    parser.add_argument("--resolutions", nargs="+", choices=tuple(SIZES), default=tuple(SIZES))
    parser.add_argument("--frames", type=int, default=16, help="output frames (16 = one model chunk)")
    parser.add_argument("--steps", type=int, default=1, help="DDIM steps")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    with tempfile.TemporaryDirectory(prefix="ls_efficiency_") as tmp:
        folder = Path(tmp)
        paths = write_full_models(folder) if args.models == "full" else write_tiny(folder)
        models = None
        results = {}
        for size in args.resolutions:
            video, audio = write_input(folder, size, args.frames)
            summary, times, models = run_once(
                paths, video, audio, folder / f"out_{size}.mp4", args.steps, models
            )
            results[size] = (summary, times)
            logger.info("%s: %s", size, summary.line())

    print(
        f"{args.models} models, {args.steps} step(s), {args.frames} frames, "
        f"{torch.get_num_threads()} torch threads; busy ms per output frame"
    )
    print(f"{'stage':<11} " + " ".join(f"{s:>10}" for s in results))
    for stage in STAGES:
        print(
            f"{stage:<11} "
            + " ".join(f"{t.ms_per_frame(stage, s.frames):10.1f}" for s, t in results.values())
        )
    print(
        f"{'wall':<11} " + " ".join(f"{1000 * t.wall_seconds / s.frames:10.1f}" for s, t in results.values())
    )
    print(
        f"{'model/wall':<11} "
        + " ".join(f"{t.model_seconds() / t.wall_seconds:10.3f}" for _, t in results.values())
    )


if __name__ == "__main__":
    main()
