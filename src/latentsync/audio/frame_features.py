"""Audio feature chunks per video frame, and a cursor that serves them from a file in bounded memory.

A video frame gets the 10 feature steps (200 ms) around its time: with ``c`` the step at
the frame's start time (50 steps per second), rows ``c-4 .. c+5`` clamped to the ends,
flattened to ``[10 * layers, width]`` (``[50, 384]`` for Whisper tiny). At 25 fps this is
the original's ``2i-4 .. 2i+5``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from whisper.audio import HOP_LENGTH, SAMPLE_RATE

if TYPE_CHECKING:
    from latentsync.audio.whisper import MelScan, WhisperFeatures

logger = logging.getLogger(__name__)

STEPS_PER_SECOND = SAMPLE_RATE // (2 * HOP_LENGTH)  # the encoder halves the 100 Hz mel rate
ROWS_BEFORE = 4
ROWS_AFTER = 5
_EPS = 1e-9  # keeps exact products such as 3 * 50 / 30 from flooring to the step below


def centre_step(frame_index: int, fps: float) -> int:
    """The feature step at the start time of video frame ``frame_index``: floor(t * 50)."""
    return math.floor(frame_index * STEPS_PER_SECOND / fps + _EPS)


def chunk_rows(frame_index: int, num_steps: int, fps: float = 25.0) -> list[int]:
    """Feature rows of one video frame, clamped to ``0 .. num_steps - 1``."""
    if num_steps <= 0:
        raise ValueError("no audio features to take a chunk from")
    if frame_index < 0:
        raise ValueError(f"frame index must be >= 0, got {frame_index}")
    centre = centre_step(frame_index, fps)
    return [min(max(row, 0), num_steps - 1) for row in range(centre - ROWS_BEFORE, centre + ROWS_AFTER + 1)]


def frame_chunk(features: torch.Tensor, frame_index: int, fps: float = 25.0) -> torch.Tensor:
    """``features`` [T, layers, width] -> the frame's chunk [10 * layers, width]."""
    rows = chunk_rows(frame_index, features.shape[0], fps)
    return features[rows].reshape(-1, features.shape[-1])


def num_video_frames(num_samples: int, fps: float, sample_rate: int = SAMPLE_RATE) -> int:
    """Video frames that start before the audio ends: ceil(duration * fps).

    A frame that starts in the last partial frame period still shows audio, so it counts
    (9.6 s at 25 fps -> 240; 9.61 s -> 241).
    """
    return max(0, math.ceil(num_samples * fps / sample_rate - _EPS))


class FrameFeatureCursor:
    """Per-frame audio chunks of a file for non-decreasing frame indices, in bounded memory.

    The file is decoded once up front (length and loudness, which the log-mel needs) and
    then once more, window by window, as frames ask for later features. Rows before the
    lowest frame still to come are dropped, so memory does not grow with the audio length.
    """

    def __init__(
        self,
        whisper_features: WhisperFeatures,
        audio_path: str | Path,
        fps: float = 25.0,
        first_frame: int = 0,
        scan: MelScan | None = None,
    ):
        """``first_frame``: the lowest frame that will be asked for (earlier windows are not encoded);
        ``scan``: the audio's first pass when the caller has it (``scan_audio``), else done here."""
        if fps <= 0:
            raise ValueError(f"fps must be > 0, got {fps}")
        self.fps = float(fps)
        self.scan = scan if scan is not None else whisper_features.scan(audio_path)
        self.num_steps = self.scan.num_steps
        self.num_frames = num_video_frames(self.scan.num_samples, self.fps)
        first_step = chunk_rows(first_frame, self.num_steps, self.fps)[0] if first_frame > 0 else 0
        self._windows: Iterator[tuple[int, torch.Tensor]] = whisper_features.iter_features(
            audio_path, scan=self.scan, first_step=first_step
        )
        self._segments: list[tuple[int, torch.Tensor]] = []  # (first step, rows), in order
        self._computed = 0  # steps computed so far
        self._last_index = first_frame - 1

    @property
    def rows_held(self) -> int:
        """Feature rows in memory right now."""
        return sum(len(rows) for _, rows in self._segments)

    def chunk(self, frame_index: int) -> torch.Tensor:
        """The chunk of ``frame_index`` (same as ``frame_chunk`` on the whole file's features)."""
        if frame_index < self._last_index:
            raise ValueError(f"frame indices must not decrease: {frame_index} after {self._last_index}")
        self._last_index = frame_index
        rows = chunk_rows(frame_index, self.num_steps, self.fps)
        while self._computed <= rows[-1]:
            start, block = next(self._windows)
            self._segments.append((start, block))
            self._computed = start + len(block)
        self._segments = [(s, r) for s, r in self._segments if s + len(r) > rows[0]]
        picked = [self._row(row) for row in rows]
        return torch.stack(picked).reshape(-1, picked[0].shape[-1])

    def _row(self, step: int) -> torch.Tensor:
        for start, block in self._segments:
            if start <= step < start + len(block):
                return block[step - start]
        raise IndexError(f"feature step {step} is no longer held")
