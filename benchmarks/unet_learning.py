"""Proof that UNet training learns lip-sync on real clips: the trainer's own step (``UNetTrainer.losses``,
the code of ``latentsync train unet``) in a time-boxed run, scored on held-out windows.

    python -m benchmarks.unet_learning --clips LIST_OR_DIR [--minutes 15] [--size small|full]
        [--config stage2] [--set key=value ...] [--unet-checkpoint PATH] [--vae PATH] [--whisper PATH]

Split: with 5 or more clips every 5th clip is held out (unseen videos); with fewer, the last 30%
of each clip is (both parts written once under ``--work``). ``--size small`` (default) trains a
UNet with the stage2 block layout and channels [32, 64, 64, 64] at 128 px from scratch, every
parameter trainable, noise-prediction loss only (CPU-sized); ``full`` keeps the config as it is
(with ``--unet-checkpoint``: fine-tune published weights). ``--set`` overrides any config key,
e.g. ``--set run.pixel_space_supervise=true`` for the pixel losses (their weights must exist).

Held-out score, on ``--eval-samples`` fixed windows with fixed noise and timesteps, measured in the
regenerated mouth region (mask 0, in latent space):

- ``mse``: noise-prediction error with the window's own audio features;
- ``mse(shift)``: the same window, noise and timestep with the audio of a window >= 5 frames away;
- ``audio gain`` = mse(shift) - mse: above 0 the UNet uses the audio (lip-sync), 0 it ignores it;
- ``2-alt``: the share of windows where their own audio gives the lower error.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import random
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from latentsync.audio.io import SAMPLES_PER_FRAME
from latentsync.config import load_config
from latentsync.models.unet_io import build_unet, load_unet
from latentsync.train.clips import FrameSource, list_clips
from latentsync.train.unet_dataset import UNetDataset
from latentsync.train.unet_trainer import UNetTrainer, select_trainable
from latentsync.video.probe import probe_video

logger = logging.getLogger("unet_learning")

HELD_OUT_EVERY = 5
HELD_OUT_TAIL = 0.3
MIN_SHIFT = 5
SMALL = [
    "model.block_out_channels=[32,64,64,64]",
    "data.resolution=128",
    "run.trainable_modules=[]",
    "run.pixel_space_supervise=false",
    "run.use_syncnet=false",
    "optimizer.lr=3e-4",
]


def split_clips(clips: list[Path], work: Path) -> tuple[list[Path], list[Path]]:
    """(train, held-out): whole clips when there are enough, else the head / tail of each clip."""
    if len(clips) >= HELD_OUT_EVERY:
        held = clips[HELD_OUT_EVERY - 1 :: HELD_OUT_EVERY]
        return [c for c in clips if c not in held], held
    from latentsync.audio.io import read_pcm16
    from latentsync.video.clip_file import write_clip

    train, held = [], []
    for path in clips:
        head, tail = work / "split" / f"{path.stem}_train.mp4", work / "split" / f"{path.stem}_held.mp4"
        if not (head.is_file() and tail.is_file()):
            frames = FrameSource().whole(path)
            audio = read_pcm16(path)
            cut = int(len(frames) * (1 - HELD_OUT_TAIL))
            write_clip(head, list(frames[:cut]), audio[: cut * SAMPLES_PER_FRAME])
            write_clip(tail, list(frames[cut:]), audio[cut * SAMPLES_PER_FRAME :])
        train.append(head)
        held.append(tail)
    return train, held


def held_out_windows(dataset: UNetDataset, clips: list[Path], count: int) -> list[dict[str, torch.Tensor]]:
    """``count`` fixed windows, each with ``shifted_audio_embeds`` from >= 5 frames away."""
    n = dataset.num_frames
    usable = [(p, int(probe_video(p).num_frames)) for p in clips]
    usable = [(p, total) for p, total in usable if total >= 2 * n]
    if not usable:
        raise SystemExit(f"no held-out clip has {2 * n} frames (a window and a reference window)")
    windows = []
    for i in range(count):
        rng = random.Random(i)
        path, total = usable[i % len(usable)]
        starts = range(total - n + 1)
        start = rng.choice([s for s in starts if s >= n or s + 2 * n <= total])  # room for a reference
        ref_start = rng.choice([s for s in starts if abs(s - start) >= n])
        shifted = rng.choice([s for s in starts if abs(s - start) >= MIN_SHIFT])
        window = dataset.window(path, start, ref_start)
        window["shifted_audio_embeds"] = dataset.audio.frame_features(path, shifted, n, dataset.fps)
        windows.append(window)
    return windows


def collate(items: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    return {key: torch.stack([item[key] for item in items]) for key in items[0]}


@torch.no_grad()
def evaluate(trainer: UNetTrainer, unet, windows: list[dict], batch_size: int) -> tuple[float, float, float]:
    """(mse, mse with shifted audio, 2-alt) over the held-out windows, in the mouth region."""
    objective = dataclasses.replace(
        trainer.objective(), weights={"recon": 1.0}, sync=None, lpips=None, trepa=None
    )
    unet.eval()
    own, shifted = [], []
    for first in range(0, len(windows), batch_size):
        batch = collate(windows[first : first + batch_size])
        for audio_key, out in (("audio_embeds", own), ("shifted_audio_embeds", shifted)):
            step = objective.step(
                unet,
                {**batch, "audio_embeds": batch[audio_key]},
                torch.Generator().manual_seed(10_000 + first),
            )
            masks = batch["masks"].flatten(0, 1)
            region = F.interpolate(masks, size=step.noise.shape[-1]) == 0  # regenerated pixels
            region = (
                region.view(len(batch["masks"]), -1, 1, *region.shape[-2:])
                .transpose(1, 2)
                .to(step.noise.device)
            )
            error = (step.pred_noise.float() - step.noise.float()).pow(2) * region
            out.append(error.sum((1, 2, 3, 4)) / (region.sum((1, 2, 3, 4)) * step.noise.shape[1]))
    unet.train()
    own_t, shifted_t = torch.cat(own), torch.cat(shifted)
    return own_t.mean().item(), shifted_t.mean().item(), (own_t < shifted_t).float().mean().item()


def build(args) -> tuple[UNetTrainer, torch.nn.Module, list[torch.nn.Parameter]]:
    overrides = (SMALL if args.size == "small" else []) + [
        f"data.train_output_dir={args.work / 'out'}",
        "run.tensorboard=false",
        *args.set,
    ]
    if args.vae:
        overrides.append(f"ckpt.vae_path={args.vae}")
    if args.whisper:
        overrides.append(f"ckpt.whisper_path={args.whisper}")
    config = load_config(args.config, "unet", overrides)
    trainer = UNetTrainer(config)
    unet = load_unet(config, args.unet_checkpoint) if args.unet_checkpoint else build_unet(config)
    unet.to(trainer.device).train()
    patterns = (
        list(config.run.get("trainable_modules") or []) if config.model.get("use_motion_module") else []
    )
    params = select_trainable(unet, patterns)
    if config.run.get("enable_gradient_checkpointing"):
        unet.enable_gradient_checkpointing()
    return trainer, unet, params


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--clips", type=Path, required=True, help="preprocessed clips: a file list or a folder"
    )
    parser.add_argument("--minutes", type=float, default=15.0, help="wall-clock budget of training + evals")
    parser.add_argument("--work", type=Path, default=Path("/tmp/unet_learning"))
    parser.add_argument("--config", default="stage2", help="packaged UNet config name or YAML file")
    parser.add_argument("--size", choices=("small", "full"), default="small")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override")
    parser.add_argument("--unet-checkpoint", type=Path, help="start from these weights (else from scratch)")
    parser.add_argument("--vae", help="VAE folder or hub id (else ckpt.vae_path / the weights resolver)")
    parser.add_argument(
        "--whisper", help="Whisper checkpoint (else ckpt.whisper_path / the weights resolver)"
    )
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--eval-samples", type=int, default=32)
    parser.add_argument("--eval-every", type=float, default=60.0, help="seconds")
    parser.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (0: time only)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    torch.set_num_threads(args.threads)
    args.work.mkdir(parents=True, exist_ok=True)
    clips = list_clips(data_dir=args.clips) if args.clips.is_dir() else list_clips(fileslist=args.clips)
    train_clips, held_clips = split_clips(clips, args.work)
    trainer, unet, params = build(args)
    config = trainer.config
    optimizer = torch.optim.AdamW(params, lr=float(config.optimizer.lr))
    make = lambda paths, seed: UNetDataset(  # noqa: E731
        paths,
        resolution=trainer.resolution,
        num_frames=trainer.num_frames,
        audio=trainer.dataset_audio(),
        with_audio_embeds=trainer.audio_layer,
        with_mel=trainer.use_syncnet,
        seed=seed,
        cache_clips=8,
    )
    train_set = make(train_clips, int(config.run.seed))
    windows = held_out_windows(make(held_clips, 0), held_clips, args.eval_samples)
    logger.info(
        "%d training clips, %d held-out clips, %d held-out windows; %.2f M trainable parameters",
        len(train_clips),
        len(held_clips),
        len(windows),
        sum(p.numel() for p in params) / 1e6,
    )
    print(
        f"{'step':>6} {'minutes':>7} {'train loss':>10} {'mse':>7} {'mse(shift)':>10} {'audio gain':>10} {'2-alt':>6}"
    )
    started, next_eval, step, recent, curve = time.monotonic(), 0.0, 0, [], []
    while True:
        elapsed = time.monotonic() - started
        done = elapsed >= args.minutes * 60 or (args.max_steps and step >= args.max_steps)
        if elapsed >= next_eval or done:
            mse, mse_shift, two_alt = evaluate(trainer, unet, windows, args.batch_size)
            train_loss = sum(recent) / len(recent) if recent else float("nan")
            curve.append((step, mse, mse_shift - mse, two_alt))
            print(
                f"{step:>6} {elapsed / 60:>7.2f} {train_loss:>10.4f} {mse:>7.4f} {mse_shift:>10.4f} "
                f"{mse_shift - mse:>10.5f} {two_alt:>6.3f}",
                flush=True,
            )
            recent, next_eval = [], next_eval + args.eval_every
        if done:
            break
        batch = collate([train_set[step * args.batch_size + j] for j in range(args.batch_size)])
        loss, _ = trainer.losses(unet, batch, step)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, float(config.optimizer.get("max_grad_norm", 1.0)))
        optimizer.step()
        recent.append(loss.item())
        step += 1
    first, last = curve[0], curve[-1]
    print(
        f"final held-out mse {last[1]:.4f} (start {first[1]:.4f}), audio gain {last[2]:.5f}, "
        f"2-alt {last[3]:.3f} after {step} steps",
        flush=True,
    )


if __name__ == "__main__":
    main()
