"""A side-by-side video of a job's input and its lip-synced result, to judge the change at a glance.

The left half shows the source frame the pipeline used for each output frame (the same looping
and frame-rate mapping as ``iter_output_frames``), so both halves stay in step even when the audio
is longer than the video; the sound is the result's. Frames stream one at a time.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from latentsync.pipeline.source import iter_output_frames
from latentsync.video.atomic import atomic_output
from latentsync.video.mux import mux_audio
from latentsync.video.probe import probe_video
from latentsync.video.reader import iter_frames
from latentsync.video.writer import VideoWriter

logger = logging.getLogger(__name__)

LABELS = ("input", "lip-synced")


def half_size(width: int, height: int, max_height: int) -> tuple[int, int]:
    """Size of each half: the result's size, scaled down to ``max_height`` and made even."""
    scale = min(1.0, max_height / height)
    return max(2, int(round(width * scale / 2)) * 2), max(2, int(round(height * scale / 2)) * 2)


def _fit(frame: np.ndarray, size: tuple[int, int], label: str) -> np.ndarray:
    width, height = size
    if frame.shape[1] != width or frame.shape[0] != height:
        frame = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
    else:
        frame = frame.copy()
    scale = max(0.5, height / 720)
    origin = (int(12 * scale), int(32 * scale))
    thickness = max(1, int(round(2 * scale)))
    cv2.putText(frame, label, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thickness + 2, cv2.LINE_AA)
    cv2.putText(
        frame, label, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thickness, cv2.LINE_AA
    )
    return frame


def side_by_side_frames(source: Path, result: Path, max_height: int = 720) -> Iterator[np.ndarray]:
    """[H, 2W, 3] uint8 RGB frames: source (left) and result (right), one per result frame."""
    source_info, result_info = probe_video(source), probe_video(result)
    size = half_size(result_info.width, result_info.height, max_height)
    left = iter_output_frames(source, source_info.fps, result_info.fps, 0, result_info.num_frames)
    for (_, before), after in zip(left, iter_frames(result)):
        yield np.concatenate([_fit(before, size, LABELS[0]), _fit(after, size, LABELS[1])], axis=1)


def write_comparison(source: Path, result: Path, output: Path, max_height: int = 720, crf: int = 20) -> int:
    """Write ``output`` (appears complete or not at all); returns the number of frames."""
    result_info = probe_video(result)
    width, height = half_size(result_info.width, result_info.height, max_height)
    with (
        tempfile.TemporaryDirectory(prefix=".compare-", dir=output.parent) as work,
        atomic_output(output) as final,
    ):
        silent = Path(work) / "video.mp4"
        with VideoWriter(silent, 2 * width, height, result_info.fps, crf=crf) as writer:
            for frame in side_by_side_frames(source, result, max_height):
                writer.write(frame)
        mux_audio(silent, result, final)
    logger.info("side-by-side comparison: %d frames -> %s", writer.frames_written, output)
    return writer.frames_written
