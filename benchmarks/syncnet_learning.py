"""Proof that SyncNet training learns: a small StableSyncNet trained on CPU (time-boxed) on windows
of the shared demo clips, scored on held-out time ranges of those clips.

    python -m benchmarks.syncnet_learning [--minutes 15] [--work /tmp/syncnet_learning]

Clips are aligned with the data pipeline's face alignment (mediapipe) and written once as 64x64
clips with 16 kHz audio. Samples come from ``SyncNetDataset`` (5 frames, negatives shifted by
>= 5 frames, half and half) on the first 80% of each clip; the network sees the lower half of
the face (32x64, the mouth) as the pixel configs' ``lower_half``. The score is the accuracy of
(cosine similarity > 0.5) on the last 20%: every held-out window with its own mel (synced) and
the same mel with frames shifted by >= 5 frames (not synced). The wall-clock budget includes
the evaluations; training stops when it is spent.
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from pathlib import Path

import numpy as np
import torch

from latentsync.models.stable_syncnet import StableSyncNet
from latentsync.train.audio_cache import ClipAudio, mel_window
from latentsync.train.clips import FrameSource, list_clips, to_pixels
from latentsync.train.losses import cosine_loss, syncnet_visual_input
from latentsync.train.syncnet_dataset import SyncNetDataset

logger = logging.getLogger("syncnet_learning")

MEDIA = Path(os.environ.get("LATENTSYNC_SHARED", "/work/shared")) / "media"
RESOLUTION = 64
TRAIN_RANGE = (0.0, 0.8)
HELD_OUT = (0.8, 1.0)


def small_syncnet(num_frames: int, width: int = 32) -> dict:
    """Encoders for a 32x64 mouth window of ``num_frames`` frames and its [80, 16] mel: 1x1 outputs."""
    channels = [width, width, 2 * width, 2 * width, 4 * width, 4 * width]
    return {
        "audio_encoder": {
            "in_channels": 1,
            "block_out_channels": channels,
            # 80x16 -> 40x16 -> 20x8 -> 10x4 -> 5x2 -> 3x1 -> 1x1
            "downsample_factors": [[2, 1], 2, 2, 2, [2, 2], [3, 1]],
            "attn_blocks": [0] * 6,
            "dropout": 0.0,
        },
        "visual_encoder": {
            "in_channels": 3 * num_frames,
            "block_out_channels": channels,
            # 32x64 -> 16x32 -> 8x16 -> 4x8 -> 2x4 -> 2x2 -> 1x1
            "downsample_factors": [2, 2, 2, 2, [1, 2], 2],
            "attn_blocks": [0] * 6,
            "dropout": 0.0,
        },
    }


def aligned_clips(work: Path) -> list[Path]:
    """The demo videos as aligned 64x64 face clips (made once, reused)."""
    import cv2

    from latentsync.data.affine import align_frames, face_detector
    from latentsync.data.media import iter_frames, read_audio, write_clip
    from latentsync.face.align import FaceAligner

    clips = []
    for name in ("demo1", "demo2"):
        out = work / f"{name}_faces.mp4"
        if not out.is_file():
            started = time.monotonic()
            frames = (frame for _, frame in iter_frames(MEDIA / f"{name}_video.mp4"))
            faces, _, missing = align_frames(frames, face_detector("mediapipe"), FaceAligner(256))
            if missing is not None:
                raise SystemExit(f"{name}: no face at frame {missing}")
            small = [cv2.resize(f, (RESOLUTION, RESOLUTION), interpolation=cv2.INTER_AREA) for f in faces]
            audio = read_audio(MEDIA / f"{name}_video.mp4")[: len(faces) * 640]
            write_clip(out, small, audio)
            logger.info("aligned %s: %d frames in %.0f s", name, len(faces), time.monotonic() - started)
        clips.append(out)
    return clips


def held_out_pairs(clips: list[Path], audio: ClipAudio, frames: FrameSource, num_frames: int, min_shift: int):
    """(visual input, mel, label) for every held-out window: synced and shifted, balanced."""
    vis, mels, labels = [], [], []
    for path in clips:
        total = len(frames.whole(path))
        first = int(HELD_OUT[0] * total)
        last = total - num_frames
        mel = audio.mel(path)
        for start in range(first, last + 1):
            shifted = [s for s in range(first, last + 1) if abs(s - start) >= min_shift]
            if not shifted:
                continue
            wrong = shifted[(start * 7) % len(shifted)]
            window = mel_window(mel, start, num_frames, 25.0)
            for frame_start, label in ((start, 1.0), (wrong, 0.0)):
                pixels = to_pixels(frames.window(path, frame_start, num_frames), RESOLUTION)
                vis.append(syncnet_visual_input(pixels[None], lower_half=True)[0])
                mels.append(window)
                labels.append(label)
    return torch.stack(vis), torch.stack(mels), torch.tensor(labels)


class PairSampler:
    """Training batches as (synced, shifted) pairs that share one mel window, from precomputed tensors.

    Every clip is decoded once into [T, 3, R, R] pixels; a step is pure indexing. Pairing the
    two labels on the same audio makes the only difference inside a pair the sync itself, which
    is the gradient the net has to find (independent coin flips, as ``SyncNetDataset`` draws
    them, bury it in noise on data this small).
    """

    def __init__(self, clips, audio: ClipAudio, frames: FrameSource, num_frames: int, min_shift: int):
        self.num_frames = num_frames
        self.min_shift = min_shift
        self.clips = []
        for path in clips:
            pixels = to_pixels(frames.whole(path), RESOLUTION)
            total = len(pixels)
            last = int(TRAIN_RANGE[1] * total) - num_frames
            self.clips.append((pixels, audio.mel(path), int(TRAIN_RANGE[0] * total), last))
        self.weights = torch.tensor([float(c[3] - c[2] + 1) for c in self.clips])

    def batch(self, pairs: int, generator: torch.Generator):
        """(visual input [2P, F*3, R/2, R], mel [2P, 1, 80, L], y [2P, 1]): synced then shifted per pair."""
        picks = torch.multinomial(self.weights, pairs, replacement=True, generator=generator)
        windows, mels, labels = [], [], []
        for clip in picks.tolist():
            pixels, mel, first, last = self.clips[clip]
            start = int(torch.randint(first, last + 1, (1,), generator=generator))
            choices = [s for s in range(first, last + 1) if abs(s - start) >= self.min_shift]
            wrong = choices[int(torch.randint(len(choices), (1,), generator=generator))]
            window = mel_window(mel, start, self.num_frames, 25.0)
            for frame_start, label in ((start, 1.0), (wrong, 0.0)):
                windows.append(pixels[frame_start : frame_start + self.num_frames])
                mels.append(window)
                labels.append([label])
        vis = syncnet_visual_input(torch.stack(windows), lower_half=True)
        return vis, torch.stack(mels), torch.tensor(labels)


def augment(vis: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Per-sample mirror, +-2 px shift and brightness/contrast jitter of [B, F*3, H, W] windows.

    With only ~24 s of training video the net would otherwise memorise pixels; none of these
    changes what the mouth does over time.
    """
    batch = vis.shape[0]
    flip = torch.rand(batch, generator=generator) < 0.5
    vis = torch.where(flip.view(-1, 1, 1, 1), vis.flip(-1), vis)
    padded = torch.nn.functional.pad(vis, (2, 2, 2, 2), mode="replicate")
    dy = torch.randint(0, 5, (batch,), generator=generator)
    dx = torch.randint(0, 5, (batch,), generator=generator)
    h, w = vis.shape[-2:]
    vis = torch.stack([padded[i, :, dy[i] : dy[i] + h, dx[i] : dx[i] + w] for i in range(batch)])
    gain = 1 + 0.2 * (torch.rand(batch, 1, 1, 1, generator=generator) - 0.5)
    bias = 0.2 * (torch.rand(batch, 1, 1, 1, generator=generator) - 0.5)
    return (vis * gain + bias).clamp(-1, 1)


@torch.no_grad()
def accuracy(
    model: StableSyncNet, vis: torch.Tensor, mels: torch.Tensor, labels: torch.Tensor
) -> tuple[float, float]:
    model.eval()
    sims = []
    for i in range(0, len(vis), 128):
        v, a = model(vis[i : i + 128], mels[i : i + 128])
        sims.append(torch.nn.functional.cosine_similarity(v, a))
    model.train()
    sims = torch.cat(sims)
    loss = torch.nn.functional.binary_cross_entropy(sims.clamp(0, 1), labels).item()
    return float(((sims > 0.5).float() == labels).float().mean()), loss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=15.0, help="wall-clock budget of training + evals")
    parser.add_argument("--work", type=Path, default=Path("/tmp/syncnet_learning"))
    parser.add_argument(
        "--clips",
        type=Path,
        help="preprocessed clips (a file list or a folder, as data.train_fileslist / train_data_dir) "
        "instead of the shared demo clips",
    )
    parser.add_argument("--num-frames", type=int, default=5)
    parser.add_argument("--min-shift", type=int, default=5)
    parser.add_argument("--width", type=int, default=32, help="channels of the first encoder block")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--warmup", type=int, default=100, help="steps of linear LR warm-up")
    parser.add_argument("--no-augment", action="store_true")
    parser.add_argument(
        "--sampler",
        choices=("pairs", "dataset"),
        default="pairs",
        help="pairs: PairSampler; dataset: SyncNetDataset",
    )
    parser.add_argument("--eval-every", type=float, default=30.0, help="seconds")
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads (2 on a shared 2-core box is 4x slower than 1)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    args.work.mkdir(parents=True, exist_ok=True)
    if args.clips is None:
        clips = aligned_clips(args.work)
    elif args.clips.is_dir():
        clips = list_clips(data_dir=args.clips)
    else:
        clips = list_clips(fileslist=args.clips)

    audio = ClipAudio(args.work / "mel")
    train = SyncNetDataset(
        clips,
        RESOLUTION,
        args.num_frames,
        audio=audio,
        seed=0,
        time_range=TRAIN_RANGE,
        cache_clips=4,
        min_shift=args.min_shift,
    )
    frames = FrameSource(cache_clips=4)
    vis, mels, labels = held_out_pairs(clips, audio, frames, args.num_frames, args.min_shift)
    logger.info("held-out pairs: %d (%d synced)", len(labels), int(labels.sum()))
    pairs = None
    if args.sampler == "pairs":
        pairs = PairSampler(clips, audio, frames, args.num_frames, args.min_shift)

    model = StableSyncNet(small_syncnet(args.num_frames, args.width)).train()
    logger.info("parameters: %.2f M", sum(p.numel() for p in model.parameters()) / 1e6)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / args.warmup))
    budget = args.minutes * 60
    started = time.monotonic()
    next_eval = 0.0
    step, curve, recent = 0, [], []
    while True:
        elapsed = time.monotonic() - started
        done = elapsed >= budget
        if elapsed >= next_eval or done:
            acc, val_loss = accuracy(model, vis, mels, labels)
            train_loss = float(np.mean(recent)) if recent else float("nan")
            curve.append((step, elapsed, train_loss, val_loss, acc))
            print(
                f"step {step:5d}  {elapsed / 60:5.2f} min  train loss {train_loss:.3f}  "
                f"held-out loss {val_loss:.3f}  held-out accuracy {acc:.3f}",
                flush=True,
            )
            recent = []
            next_eval += args.eval_every
        if done:
            break
        if pairs is not None:
            pixels, mel, y = pairs.batch(args.batch_size // 2, generator)
        else:
            batch = [train[step * args.batch_size + j] for j in range(args.batch_size)]
            pixels = syncnet_visual_input(torch.stack([b["frames"] for b in batch]), lower_half=True)
            mel = torch.stack([b["audio_samples"] for b in batch])
            y = torch.stack([b["y"] for b in batch])
        if not args.no_augment:
            pixels = augment(pixels, generator)
        v, a = model(pixels, mel)
        loss = cosine_loss(v, a, y).mean()
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        recent.append(loss.item())
        step += 1
    best = max(c[4] for c in curve)
    print(
        f"final held-out accuracy {curve[-1][4]:.3f} after {step} steps "
        f"({curve[-1][1] / 60:.1f} min wall); best {best:.3f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
