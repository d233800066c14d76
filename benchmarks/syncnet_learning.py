"""Proof that SyncNet training learns: a small StableSyncNet trained on CPU (time-boxed) on windows
of the shared demo clips, scored on held-out time ranges of those clips.

    python -m benchmarks.syncnet_learning [--minutes 15] [--objective offsets|pairs] [--view mouth|lower-half]
                                          [--clips LIST_OR_DIR] [--work /tmp/syncnet_learning]

Clips are aligned with the data pipeline's face alignment (mediapipe, 256 px) and stored once at
128x128 with 16 kHz audio. The net sees ``--num-frames`` frames of either the lower half of the
face (RGB, 32x64, as the pixel configs' ``lower_half``) or a tight grey mouth crop (32x48), with
the matching mel window. Training uses the first 80% of each clip:

- ``pairs``: a synced window and a shifted one (>= 5 frames, anywhere) sharing one mel window,
  scored with the trainer's ``cosine_loss``;
- ``offsets``: for one mel window, the frames at offsets -15..+15 (step 5) of the same clip; the
  loss is cross-entropy over which offset is synced (the multi-way matching of "Perfect Match",
  Chung et al. 2019) plus the cosine loss with positives and negatives weighted equally: the
  trainer's ``run.sync_objective: offsets``, ``offsets_loss``. Nearby
  windows of the same clip share face, pose and light, so only the sync tells them apart.

Scores on the last 20%: every held-out window with its own mel (synced) and with frames shifted by
>= 5 frames (not synced); ``threshold`` is the accuracy of (cosine similarity > 0.5),
``2-alt`` the share of windows where the synced frames score higher than the shifted ones. The
wall-clock budget includes the evaluations; training stops when it is spent.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from latentsync.errors import InputError
from latentsync.models.stable_syncnet import StableSyncNet
from latentsync.train.audio_cache import ClipAudio, mel_window
from latentsync.train.clips import FrameSource, list_clips, to_pixels
from latentsync.train.losses import cosine_loss, offsets_loss
from tests.helpers.golden import MEDIA

logger = logging.getLogger("syncnet_learning")

STORED_RESOLUTION = 128
TRAIN_RANGE = (0.0, 0.8)
HELD_OUT = (0.8, 1.0)
MIN_SHIFT = 5
OFFSETS = (-15, -10, -5, 0, 5, 10, 15)
FPS = 25.0

# view -> (visual downsample factors to 1x1, channels per frame)
VIEWS = {
    "lower-half": ([2, 2, 2, 2, [1, 2], 2], 3),  # 32x64 RGB
    "mouth": ([2, 2, 2, 2, [2, 3], 1], 1),  # 32x48 grey
}


def small_syncnet(num_frames: int, view: str, width: int = 32, dropout: float = 0.0) -> dict:
    """Encoders for ``num_frames`` frames of ``view`` and the matching mel window: 1x1 outputs."""
    channels = [width, width, 2 * width, 2 * width, 4 * width, 4 * width]
    factors, per_frame = VIEWS[view]
    # 80 x L mel -> 1x1: L is 16 for 5 frames, 52 for 16 frames
    audio_factors = (
        [[2, 1], 2, 2, 2, [2, 2], [3, 1]] if num_frames <= 5 else [[2, 1], 2, 2, 2, [2, 3], [3, 3]]
    )
    encoder = {"attn_blocks": [0] * 6, "dropout": dropout, "block_out_channels": channels}
    return {
        "audio_encoder": {**encoder, "in_channels": 1, "downsample_factors": audio_factors},
        "visual_encoder": {**encoder, "in_channels": per_frame * num_frames, "downsample_factors": factors},
    }


def aligned_clips(work: Path) -> list[Path]:
    """The demo videos as aligned 128x128 face clips with their audio (made once, reused)."""
    import cv2

    from latentsync.audio.io import read_pcm16
    from latentsync.data.affine import align_frames, face_detector
    from latentsync.face.align import FaceAligner
    from latentsync.video.clip_file import write_clip
    from latentsync.video.reader import iter_timed_frames

    clips = []
    for name in ("demo1", "demo2"):
        out = work / f"{name}_faces{STORED_RESOLUTION}.mp4"
        if not out.is_file():
            started = time.monotonic()
            frames = (frame for _, frame in iter_timed_frames(MEDIA / f"{name}_video.mp4"))
            faces, _, missing = align_frames(frames, face_detector("mediapipe"), FaceAligner(256))
            if missing is not None:
                raise SystemExit(f"{name}: no face at frame {missing}")
            size = (STORED_RESOLUTION, STORED_RESOLUTION)
            small = [cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in faces]
            audio = read_pcm16(MEDIA / f"{name}_video.mp4")[: len(faces) * 640]
            write_clip(out, small, audio)
            logger.info("aligned %s: %d frames in %.0f s", name, len(faces), time.monotonic() - started)
        clips.append(out)
    return clips


def view_frames(pixels: torch.Tensor, view: str) -> torch.Tensor:
    """[T, 3, 128, 128] faces in [-1, 1] -> the per-frame input the net sees."""
    if view == "lower-half":
        return F.interpolate(pixels[:, :, 64:], size=(32, 64), mode="bilinear", antialias=True)
    mouth = pixels[:, :, 52:100, 28:100].mean(1, keepdim=True)  # lips, teeth, corners
    return F.interpolate(mouth, size=(32, 48), mode="bilinear", antialias=True)


class ClipWindows:
    """Every clip decoded once into view tensors; a sample is pure indexing."""

    def __init__(self, clips: list[Path], audio: ClipAudio, view: str, num_frames: int):
        frames = FrameSource()
        self.num_frames = num_frames
        self.clips = []
        for path in clips:
            mel = audio.mel(path)
            seen = view_frames(to_pixels(frames.whole(path), STORED_RESOLUTION), view)
            last = len(seen) - num_frames
            while last >= 0 and not self._has_audio(mel, last):
                last -= 1
            self.clips.append((seen, mel, len(seen), last))

    def _has_audio(self, mel: torch.Tensor, start: int) -> bool:
        try:
            mel_window(mel, start, self.num_frames, FPS)
        except InputError:
            return False
        return True

    def range(self, clip: int, span: tuple[float, float]) -> tuple[int, int]:
        """First and last window start inside ``span`` (fractions of the clip)."""
        _, _, total, last = self.clips[clip]
        return int(span[0] * total), min(last, int(span[1] * total) - self.num_frames)

    def visual(self, clip: int, start: int) -> torch.Tensor:
        seen = self.clips[clip][0][start : start + self.num_frames]
        return seen.reshape(-1, *seen.shape[-2:])  # frames stacked on channels

    def mel(self, clip: int, start: int) -> torch.Tensor:
        return mel_window(self.clips[clip][1], start, self.num_frames, FPS)


def held_out_shift(start: int, first: int, last: int) -> int | None:
    """The shifted start scored against window ``start`` (fixed, >= 5 frames away, in first..last)."""
    shifted = [s for s in range(first, last + 1) if abs(s - start) >= MIN_SHIFT]
    return shifted[(start * 7) % len(shifted)] if shifted else None


def held_out(windows: ClipWindows) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(visual, mel, label) for every held-out window: synced, then shifted by >= 5 frames."""
    vis, mels, labels = [], [], []
    for clip in range(len(windows.clips)):
        first, last = windows.range(clip, HELD_OUT)
        for start in range(first, last + 1):
            wrong = held_out_shift(start, first, last)
            if wrong is None:
                continue
            for frame_start, label in ((start, 1.0), (wrong, 0.0)):
                vis.append(windows.visual(clip, frame_start))
                mels.append(windows.mel(clip, start))
                labels.append(label)
    return torch.stack(vis), torch.stack(mels), torch.tensor(labels)


class Sampler:
    """Training batches from the training range of every clip, clips weighted by their length."""

    def __init__(self, windows: ClipWindows, generator: torch.Generator):
        self.windows = windows
        self.generator = generator
        self.ranges = [windows.range(c, TRAIN_RANGE) for c in range(len(windows.clips))]
        self.weights = torch.tensor([float(hi - lo + 1) for lo, hi in self.ranges])

    def _pick(self, low_margin: int = 0, high_margin: int = 0) -> tuple[int, int]:
        clip = int(torch.multinomial(self.weights, 1, generator=self.generator))
        lo, hi = self.ranges[clip]
        start = int(torch.randint(lo + low_margin, hi - high_margin + 1, (1,), generator=self.generator))
        return clip, start

    def pairs(self, count: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``count`` (synced, shifted) pairs sharing their mel: [2C, ...] visual, mel, y [2C, 1]."""
        vis, mels, labels = [], [], []
        for _ in range(count):
            clip, start = self._pick()
            lo, hi = self.ranges[clip]
            choices = [s for s in range(lo, hi + 1) if abs(s - start) >= MIN_SHIFT]
            wrong = choices[int(torch.randint(len(choices), (1,), generator=self.generator))]
            for frame_start, label in ((start, 1.0), (wrong, 0.0)):
                vis.append(self.windows.visual(clip, frame_start))
                mels.append(self.windows.mel(clip, start))
                labels.append([label])
        return torch.stack(vis), torch.stack(mels), torch.tensor(labels)

    def offsets(self, count: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Frames at every offset [C * K, ...] and the mel windows [C, 1, 80, L]."""
        vis, mels = [], []
        for _ in range(count):
            clip, start = self._pick(-min(OFFSETS), max(OFFSETS))
            mels.append(self.windows.mel(clip, start))
            vis += [self.windows.visual(clip, start + offset) for offset in OFFSETS]
        return torch.stack(vis), torch.stack(mels)


def augment(vis: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Per-window mirror, +-2 px shift and brightness/contrast jitter of [B, F*C, H, W].

    With ~24 s of training video the net would otherwise memorise pixels; none of these
    changes what the mouth does over time.
    """
    batch = vis.shape[0]
    flip = torch.rand(batch, generator=generator) < 0.5
    vis = torch.where(flip.view(-1, 1, 1, 1), vis.flip(-1), vis)
    padded = F.pad(vis, (2, 2, 2, 2), mode="replicate")
    dy = torch.randint(0, 5, (batch,), generator=generator)
    dx = torch.randint(0, 5, (batch,), generator=generator)
    h, w = vis.shape[-2:]
    vis = torch.stack([padded[i, :, dy[i] : dy[i] + h, dx[i] : dx[i] + w] for i in range(batch)])
    gain = 1 + 0.2 * (torch.rand(batch, 1, 1, 1, generator=generator) - 0.5)
    bias = 0.2 * (torch.rand(batch, 1, 1, 1, generator=generator) - 0.5)
    return (vis * gain + bias).clamp(-1, 1)


@torch.no_grad()
def evaluate(model: StableSyncNet, vis: torch.Tensor, mels: torch.Tensor, labels: torch.Tensor):
    """(threshold accuracy, 2-alternative accuracy, held-out cosine loss)."""
    model.eval()
    sims = []
    for i in range(0, len(vis), 128):
        v, a = model(vis[i : i + 128], mels[i : i + 128])
        sims.append(F.cosine_similarity(v, a))
    model.train()
    sims = torch.cat(sims)
    threshold = float(((sims > 0.5).float() == labels).float().mean())
    two_alt = float((sims[0::2] > sims[1::2]).float().mean())
    loss = F.binary_cross_entropy(sims.clamp(0, 1), labels).item()
    return threshold, two_alt, loss


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
    parser.add_argument("--objective", choices=("offsets", "pairs"), default="offsets")
    parser.add_argument("--view", choices=tuple(VIEWS), default="mouth")
    parser.add_argument("--num-frames", type=int, default=16)
    parser.add_argument("--width", type=int, default=32, help="channels of the first encoder block")
    parser.add_argument("--batch-size", type=int, default=56, help="visual windows per step")
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--weight-decay", type=float, default=0.1)
    parser.add_argument("--dropout", type=float, default=0.5)
    parser.add_argument("--temperature", type=float, default=0.1)
    parser.add_argument("--warmup", type=int, default=100, help="steps of linear LR warm-up")
    parser.add_argument("--no-augment", action="store_true")
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

    windows = ClipWindows(clips, ClipAudio(args.work / "mel"), args.view, args.num_frames)
    vis, mels, labels = held_out(windows)
    sampler = Sampler(windows, generator)
    logger.info("held-out pairs: %d; input %s", len(labels) // 2, tuple(vis.shape[1:]))

    model = StableSyncNet(small_syncnet(args.num_frames, args.view, args.width, args.dropout)).train()
    logger.info("parameters: %.2f M", sum(p.numel() for p in model.parameters()) / 1e6)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / args.warmup))
    budget = args.minutes * 60
    started = time.monotonic()
    next_eval = 0.0
    step, curve, recent = 0, [], []
    print(
        f"{'step':>6} {'minutes':>7} {'train loss':>10} {'held-out loss':>13} {'threshold':>9} {'2-alt':>6}"
    )
    while True:
        elapsed = time.monotonic() - started
        done = elapsed >= budget
        if elapsed >= next_eval or done:
            threshold, two_alt, held_loss = evaluate(model, vis, mels, labels)
            train_loss = float(np.mean(recent)) if recent else float("nan")
            curve.append((step, threshold, two_alt))
            print(
                f"{step:>6} {elapsed / 60:>7.2f} {train_loss:>10.3f} {held_loss:>13.3f} "
                f"{threshold:>9.3f} {two_alt:>6.3f}",
                flush=True,
            )
            recent = []
            next_eval += args.eval_every
        if done:
            break
        if args.objective == "pairs":
            pixels, mel, y = sampler.pairs(args.batch_size // 2)
        else:
            pixels, mel = sampler.offsets(max(1, args.batch_size // len(OFFSETS)))
        if not args.no_augment:
            pixels = augment(pixels, generator)
        v, a = model(pixels, mel)
        if args.objective == "pairs":
            loss = cosine_loss(v, a, y).mean()
        else:
            loss = offsets_loss(v, a, len(OFFSETS), OFFSETS.index(0), args.temperature).mean()
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        recent.append(loss.item())
        step += 1
    print(
        f"final held-out accuracy {curve[-1][1]:.3f} (2-alt {curve[-1][2]:.3f}) after {step} steps; "
        f"best {max(c[1] for c in curve):.3f} (2-alt {max(c[2] for c in curve):.3f})",
        flush=True,
    )


if __name__ == "__main__":
    main()
