"""Stage 2, ``resample``: every video to 25 fps, every audio track to 16 kHz mono.

Algorithm: decode with PyAV; output frame ``k`` (time ``k / 25``) is the last source frame
whose timestamp is ``<= k / 25`` (constant-rate resampling by frame dropping/duplication,
like ffmpeg's ``-r 25``); the clip has ``floor(duration * 25)`` frames. Audio is resampled
with libswresample to 16 kHz mono and trimmed to ``frames * 640`` samples. Always
re-encoded (H.264 CRF 18 + AAC) so later stages can cut at any frame.
"""

from __future__ import annotations

import math
from pathlib import Path

from latentsync.audio.io import read_pcm16
from latentsync.data.stage import Settings, Stage, StageRecord
from latentsync.video.clip_file import CLIP_FPS, ClipWriter
from latentsync.video.probe import scan_streams
from latentsync.video.reader import iter_timed_frames


class Resampler(Stage):
    name = "resample"
    output_folder = "resampled"

    def run(self, src: Path, dst: Path, settings: Settings) -> StageRecord:
        info = scan_streams(src)
        total = math.floor(info.duration * CLIP_FPS + 1e-6)
        if total <= 0:
            return StageRecord.rejected("zero length")
        writer = ClipWriter(dst, read_pcm16(src))
        try:
            previous = None
            frames = iter_timed_frames(src)
            pending = next(frames, None)
            start = pending[0] if pending else 0.0
            for k in range(total):
                target = start + k / CLIP_FPS + 1e-6
                while pending is not None and pending[0] <= target:
                    previous = pending[1]
                    pending = next(frames, None)
                if previous is None:
                    break
                writer.write_frame(previous)
        except BaseException:
            writer.abort()
            raise
        written = writer.frames_written
        writer.commit()
        return StageRecord.kept(
            [dst], source_fps=round(info.fps, 3), frames=written, duration=written / CLIP_FPS
        )
