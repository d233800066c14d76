"""Proof that SyncNet training learns: a small StableSyncNet trained on CPU (time-boxed) on windows
of the shared demo clips, scored on held-out time ranges of those clips.

    python -m benchmarks.syncnet_learning [--minutes 15] [--work /tmp/syncnet_learning]

Clips are aligned with the data pipeline's face alignment (mediapipe), written as 64x64 clips
with 16 kHz audio. Training windows come from the first 80% of each clip; the score is the
accuracy of (cosine similarity > 0.5) on the last 20%: every window with its own mel (synced)
and the same mel with frames shifted by >= 8 frames (not synced), half and half.
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
from latentsync.train.clips import FrameSource, to_pixels
from latentsync.train.losses import cosine_loss, syncnet_visual_input
from latentsync.train.syncnet_dataset import SyncNetDataset

logger = logging.getLogger("syncnet_learning")

MEDIA = Path(os.environ.get("LATENTSYNC_SHARED", "/work/shared")) / "media"
RESOLUTION = 64
NUM_FRAMES = 16
TRAIN_RANGE = (0.0, 0.8)
HELD_OUT = (0.8, 1.0)
MIN_SHIFT = 8

SMALL_SYNCNET = {
    "audio_encoder": {
        "in_channels": 1,
        "block_out_channels": [32, 32, 64, 64, 128, 128],
        "downsample_factors": [[2, 1], 2, 2, 2, 2, [2, 3]],
        "attn_blocks": [0] * 6,
        "dropout": 0.0,
    },
    "visual_encoder": {
        "in_channels": 3 * NUM_FRAMES,
        "block_out_channels": [32, 32, 64, 64, 128, 128],
        "downsample_factors": [[1, 2], 2, 2, 2, 2, 2],
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


def held_out_pairs(clips: list[Path], audio: ClipAudio, frames: FrameSource):
    """(visual input, mel, label) for every held-out window: synced and shifted, balanced."""
    vis, mels, labels = [], [], []
    for path in clips:
        total = len(frames.whole(path))
        first = int(HELD_OUT[0] * total)
        last = total - NUM_FRAMES
        mel = audio.mel(path)
        for start in range(first, last + 1):
            shifted = [s for s in range(first, last + 1) if abs(s - start) >= MIN_SHIFT]
            if not shifted:
                continue
            wrong = shifted[(start * 7) % len(shifted)]
            window = mel_window(mel, start, NUM_FRAMES, 25.0)
            for frame_start, label in ((start, 1.0), (wrong, 0.0)):
                pixels = to_pixels(frames.window(path, frame_start, NUM_FRAMES), RESOLUTION)
                vis.append(syncnet_visual_input(pixels[None], lower_half=True)[0])
                mels.append(window)
                labels.append(label)
    return torch.stack(vis), torch.stack(mels), torch.tensor(labels)


@torch.no_grad()
def accuracy(
    model: StableSyncNet, vis: torch.Tensor, mels: torch.Tensor, labels: torch.Tensor
) -> tuple[float, float]:
    model.eval()
    sims = []
    for i in range(0, len(vis), 64):
        v, a = model(vis[i : i + 64], mels[i : i + 64])
        sims.append(torch.nn.functional.cosine_similarity(v, a))
    model.train()
    sims = torch.cat(sims)
    loss = torch.nn.functional.binary_cross_entropy(sims.clamp(0, 1), labels).item()
    return float(((sims > 0.5).float() == labels).float().mean()), loss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=15.0)
    parser.add_argument("--work", type=Path, default=Path("/tmp/syncnet_learning"))
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--eval-every", type=float, default=60.0, help="seconds")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    torch.manual_seed(0)
    args.work.mkdir(parents=True, exist_ok=True)
    clips = aligned_clips(args.work)

    audio = ClipAudio(args.work / "mel")
    train = SyncNetDataset(
        clips,
        RESOLUTION,
        NUM_FRAMES,
        audio=audio,
        seed=0,
        time_range=TRAIN_RANGE,
        cache_clips=4,
        min_shift=MIN_SHIFT,
    )
    frames = FrameSource(cache_clips=4)
    vis, mels, labels = held_out_pairs(clips, audio, frames)
    logger.info("held-out pairs: %d (%d synced)", len(labels), int(labels.sum()))

    model = StableSyncNet(SMALL_SYNCNET).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr)
    started = time.monotonic()
    next_eval = 0.0
    step, curve, recent = 0, [], []
    while True:
        elapsed = time.monotonic() - started
        if elapsed >= next_eval:
            acc, val_loss = accuracy(model, vis, mels, labels)
            train_loss = float(np.mean(recent)) if recent else float("nan")
            curve.append((step, elapsed, train_loss, val_loss, acc))
            print(
                f"step {step:5d}  {elapsed / 60:5.1f} min  train loss {train_loss:.3f}  "
                f"held-out loss {val_loss:.3f}  held-out accuracy {acc:.3f}",
                flush=True,
            )
            recent = []
            next_eval += args.eval_every
            if elapsed >= args.minutes * 60:
                break
        batch = [train[step * args.batch_size + j] for j in range(args.batch_size)]
        pixels = torch.stack([b["frames"] for b in batch])
        mel = torch.stack([b["audio_samples"] for b in batch])
        y = torch.stack([b["y"] for b in batch])
        v, a = model(syncnet_visual_input(pixels, lower_half=True), mel)
        loss = cosine_loss(v, a, y).mean()
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        recent.append(loss.item())
        step += 1
    best = max(c[4] for c in curve)
    print(
        f"final held-out accuracy {curve[-1][4]:.3f} after {step} steps "
        f"({curve[-1][1] / 60:.1f} min); best {best:.3f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
