"""UNet training samples: a 16-frame window, its masked copy, reference frames from another time,
per-frame Whisper features and the mel window for the sync loss."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import torch

from latentsync.face.mask import mouth_mask
from latentsync.train.audio_cache import mel_window
from latentsync.train.clips import to_pixels
from latentsync.train.window_dataset import ClipWindowDataset


@dataclass(eq=False)
class UNetDataset(ClipWindowDataset):
    """Item ``i`` (deterministic for a seed):

    ``gt_pixel_values``, ``masked_pixel_values``, ``ref_pixel_values`` [F, 3, R, R] in [-1, 1],
    ``masks`` [F, 1, R, R] (1 = keep, 0 = regenerate), ``audio_embeds`` [F, 50, 384] (if
    ``with_audio_embeds``), ``mel`` [1, 80, 52] (if ``with_mel``), ``start_idx``.
    The reference window never overlaps the target window, as in the original.
    """

    with_audio_embeds: bool = True
    with_mel: bool = True
    mask: torch.Tensor | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.mask is None:
            self.mask = torch.from_numpy(mouth_mask(self.resolution))

    def min_clip_frames(self) -> int:
        """Room for the window and a reference window that does not overlap it."""
        return 3 * self.num_frames

    def sample(self, rng: random.Random, path: Path, total: int) -> dict[str, torch.Tensor]:
        n = self.num_frames
        start = rng.randint(0, total - n)
        while True:
            ref_start = rng.randint(0, total - n)
            if not start - n < ref_start < start + n:
                break
        return self.window(path, start, ref_start)

    def window(self, path: Path, start: int, ref_start: int) -> dict[str, torch.Tensor]:
        """The sample of the frames at ``start`` with the reference frames at ``ref_start``."""
        n = self.num_frames
        sample: dict[str, torch.Tensor] = {"start_idx": torch.tensor(start)}
        if self.with_mel:
            sample["mel"] = mel_window(self.audio.mel(path), start, n, self.fps)
        if self.with_audio_embeds:
            sample["audio_embeds"] = self.audio.frame_features(path, start, n, self.fps)
        gt = to_pixels(self.frames.window(path, start, n), self.resolution)
        mask = self.mask.to(gt.dtype).expand(n, 1, -1, -1)
        sample["gt_pixel_values"] = gt
        sample["masked_pixel_values"] = gt * mask
        sample["masks"] = mask.clone()
        sample["ref_pixel_values"] = to_pixels(self.frames.window(path, ref_start, n), self.resolution)
        return sample
