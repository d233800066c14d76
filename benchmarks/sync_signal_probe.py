"""How much lip-sync signal the shared demo clips hold: a linear probe, no deep learning.

    python -m benchmarks.sync_signal_probe [--work /tmp/syncnet_learning]

The SyncNet proof of learning (``benchmarks/syncnet_learning.py``) trains on ~24 s of video and
is scored on the last 20% of each clip. This script measures the ceiling that data sets for a
simple learner: the frames as the SyncNet sees them (``--view``, made grey) are reduced to ``K``
principal components fitted on the training range, a ridge regression maps them to the frame's SyncNet mel
column (80 bands, fitted on the training range too), and every held-out window is scored two
ways against its own audio: synced frames vs the same shifted (>= 5 frames) frames that
``syncnet_learning`` uses. The printed number is the share of held-out windows where the synced
frames predict the audio better (two-alternative accuracy; a threshold classifier, as the SyncNet
benchmark scores, can only do worse).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np

from benchmarks.syncnet_learning import (
    HELD_OUT,
    STORED_RESOLUTION,
    TRAIN_RANGE,
    VIEWS,
    aligned_clips,
    held_out_shift,
    view_frames,
)
from latentsync.train.audio_cache import MEL_STEPS_PER_SECOND, ClipAudio
from latentsync.train.clips import FrameSource, to_pixels

FPS = 25.0


def per_frame(path: Path, frames: FrameSource, audio: ClipAudio, view: str) -> tuple[np.ndarray, np.ndarray]:
    """(the view's pixels [T, D], mel column [T, 80]) for every frame the audio covers."""
    pixels = view_frames(to_pixels(frames.whole(path), STORED_RESOLUTION), view)
    video = pixels.mean(1).flatten(1).numpy()
    mel = audio.mel(path).numpy()
    steps = MEL_STEPS_PER_SECOND / FPS
    count = min(len(video), int(mel.shape[1] / steps) - 1)
    columns = np.stack([mel[:, int(steps * i) : int(steps * i) + 4].mean(1) for i in range(count)])
    return video[:count], columns


def two_alternative_accuracy(pred: np.ndarray, target: np.ndarray, first: int, window: int) -> list[bool]:
    """Per held-out window: does the synced prediction fit the audio better than a shifted one?"""
    last = len(pred) - window
    wins = []
    for start in range(first, last + 1):
        wrong = held_out_shift(start, first, last)
        if wrong is None:
            continue
        audio = target[start : start + window]
        synced = ((pred[start : start + window] - audio) ** 2).mean()
        other = ((pred[wrong : wrong + window] - audio) ** 2).mean()
        wins.append(bool(synced < other))
    return wins


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/syncnet_learning"))
    parser.add_argument("--view", choices=tuple(VIEWS), default="mouth")
    parser.add_argument("--ridge", type=float, default=10.0, help="on unit-variance components")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    frames, audio = FrameSource(), ClipAudio(args.work / "mel")
    clips = [per_frame(p, frames, audio, args.view) for p in aligned_clips(args.work)]
    splits = [(int(TRAIN_RANGE[1] * len(x)), int(HELD_OUT[0] * len(x))) for x, _ in clips]
    train_x = np.concatenate([x[:end] for (x, _), (end, _) in zip(clips, splits)])
    train_y = np.concatenate([y[:end] for (_, y), (end, _) in zip(clips, splits)])
    mean_x, mean_y = train_x.mean(0), train_y.mean(0)
    _, singular, basis = np.linalg.svd(train_x - mean_x, full_matrices=False)

    print(f"{'components':>10} {'window':>6} {'held-out windows':>16} {'2-alt accuracy':>14}")
    for components in (5, 10, 20, 40):
        project = basis[:components].T / singular[:components] * np.sqrt(len(train_x))  # unit variance
        codes = (train_x - mean_x) @ project
        weights = np.linalg.solve(
            codes.T @ codes + args.ridge * np.eye(components), codes.T @ (train_y - mean_y)
        )
        for window in (5, 16):
            wins = []
            for (x, y), (_, first) in zip(clips, splits):
                pred = (x - mean_x) @ project @ weights + mean_y
                wins += two_alternative_accuracy(pred, y, first, window)
            print(f"{components:>10} {window:>6} {len(wins):>16} {np.mean(wins):>14.3f}")


if __name__ == "__main__":
    main()
