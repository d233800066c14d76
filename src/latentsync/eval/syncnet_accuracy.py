"""Accuracy of a StableSyncNet on in-sync vs out-of-sync pairs (the original's ``eval_syncnet_acc``).

A sample takes a random clip and a random window start: the mel window at that start (52 mel
frames for 16 video frames) is paired either with the frames of that same window (label 1) or
with the frames of another random window of the same clip (label 0), with equal odds. The
prediction is ``cosine(vision, audio) > 0.5``. Frames are the clip's aligned faces resized to
the config's resolution, scaled to [-1, 1], stacked as ``(f c) h w`` and, with ``lower_half``,
cut to the lower half. Sampling is seeded (``run.seed``), so a run is repeatable.
"""

from __future__ import annotations

import logging
import math
import random
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from omegaconf import DictConfig

from latentsync.audio.io import read_pcm16
from latentsync.audio.syncnet_mel import syncnet_melspectrogram
from latentsync.errors import ConfigError, InputError
from latentsync.video.reader import read_all_frames

logger = logging.getLogger(__name__)

MEL_FRAMES_PER_SECOND = 80
SIMILARITY_THRESHOLD = 0.5
MAX_DRAW_ATTEMPTS = 100


@dataclass
class AccuracyResult:
    correct: int
    total: int
    positives: int
    true_positives: int
    true_negatives: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else float("nan")

    def to_dict(self) -> dict:
        return {
            "accuracy": self.accuracy,
            "correct": self.correct,
            "total": self.total,
            "positives": self.positives,
            "negatives": self.total - self.positives,
            "true_positives": self.true_positives,
            "true_negatives": self.true_negatives,
        }


def read_fileslist(path: str | Path) -> list[Path]:
    """Non-empty lines of a file list, as paths (a missing clip fails later, when drawn)."""
    try:
        lines = Path(path).read_text().splitlines()
    except OSError as exc:
        raise InputError(f"cannot read file list {path}: {exc.strerror}") from exc
    clips = [Path(line.strip()) for line in lines if line.strip()]
    if not clips:
        raise InputError(f"file list {path} lists no clips")
    return clips


def mel_window_length(num_frames: int) -> int:
    return math.ceil(num_frames / 5 * 16)


def to_model_frames(frames_uint8: np.ndarray, resolution: int, lower_half: bool) -> torch.Tensor:
    """[F, H, W, 3] uint8 -> [F*3, h, w] in [-1, 1] (bicubic antialiased resize if needed)."""
    images = torch.from_numpy(np.ascontiguousarray(frames_uint8)).permute(0, 3, 1, 2).float()
    if images.shape[-2:] != (resolution, resolution):
        images = F.interpolate(images, size=(resolution, resolution), mode="bicubic", antialias=True)
        images = images.round().clamp(0, 255)
    pixels = (images / 255.0 - 0.5) / 0.5
    stacked = pixels.flatten(0, 1)
    if lower_half:
        stacked = stacked[:, stacked.shape[1] // 2 :, :]
    return stacked


class ClipCache:
    """Decoded frames and mel of recently drawn clips (a clip is drawn many times)."""

    def __init__(self, size: int = 8):
        self.size = size
        self._items: OrderedDict[Path, tuple[np.ndarray, np.ndarray]] = OrderedDict()

    def frames_and_mel(self, path: Path) -> tuple[np.ndarray, np.ndarray]:
        if path in self._items:
            self._items.move_to_end(path)
            return self._items[path]
        if not path.is_file():
            raise InputError(f"clip listed in the file list does not exist: {path}")
        frames = read_all_frames(path)
        audio = read_pcm16(path)
        mel = syncnet_melspectrogram(audio.astype(np.float32) / 32768.0) if audio.size else np.zeros((80, 0))
        self._items[path] = (frames, mel)
        while len(self._items) > self.size:
            self._items.popitem(last=False)
        return frames, mel


def draw_sample(
    rng: random.Random, clips: list[Path], cache: ClipCache, data: DictConfig
) -> tuple[torch.Tensor, torch.Tensor, float]:
    """(frames [F*3, h, w], mel [1, 80, T], label) drawn as the original's validation dataset does."""
    num_frames = int(data.num_frames)
    window = mel_window_length(num_frames)
    fps = float(data.video_fps)
    for _ in range(MAX_DRAW_ATTEMPTS):
        frames, mel = cache.frames_and_mel(clips[rng.randint(0, len(clips) - 1)])
        if len(frames) < 2 * num_frames:
            continue
        start = rng.randint(0, len(frames) - num_frames)
        wrong = start
        while wrong == start:
            wrong = rng.randint(0, len(frames) - num_frames)
        mel_start = int(MEL_FRAMES_PER_SECOND * (start / fps))
        mel_window = mel[:, mel_start : mel_start + window]
        if mel_window.shape[-1] != window:
            continue
        positive = rng.choice([True, False])
        first = start if positive else wrong
        chosen = to_model_frames(
            frames[first : first + num_frames], int(data.resolution), bool(data.lower_half)
        )
        return chosen, torch.from_numpy(np.ascontiguousarray(mel_window)).float()[None], float(positive)
    raise InputError(
        f"no usable clip after {MAX_DRAW_ATTEMPTS} draws: clips need at least {2 * num_frames} frames "
        f"and audio covering them"
    )


@torch.no_grad()
def syncnet_accuracy(
    model,
    clips: list[Path],
    config: DictConfig,
    num_samples: int | None = None,
    batch_size: int | None = None,
    seed: int | None = None,
    threshold: float = SIMILARITY_THRESHOLD,
) -> AccuracyResult:
    """Share of drawn pairs whose ``cosine > threshold`` prediction matches the label."""
    data = config.data
    if bool(data.get("latent_space", False)):
        raise ConfigError(
            "latent-space SyncNet configs are not supported by `eval syncnet-acc` (pixel configs only)"
        )
    num_samples = int(num_samples or data.num_val_samples)
    batch_size = int(batch_size or data.batch_size)
    rng = random.Random(int(config.run.seed) if seed is None else seed)
    cache = ClipCache()
    device = next(model.parameters()).device
    result = AccuracyResult(0, 0, 0, 0, 0)
    while result.total < num_samples:
        count = min(batch_size, num_samples - result.total)
        samples = [draw_sample(rng, clips, cache, data) for _ in range(count)]
        frames = torch.stack([s[0] for s in samples]).to(device)
        mels = torch.stack([s[1] for s in samples]).to(device)
        labels = torch.tensor([s[2] for s in samples])
        vision, audio = model(frames, mels)
        predictions = (F.cosine_similarity(vision, audio).cpu() > threshold).float()
        hits = predictions == labels
        result.correct += int(hits.sum())
        result.total += count
        result.positives += int(labels.sum())
        result.true_positives += int((hits & (labels == 1)).sum())
        result.true_negatives += int((hits & (labels == 0)).sum())
        logger.info("syncnet accuracy after %d samples: %.2f%%", result.total, 100 * result.accuracy)
    return result
