"""Stage 1, ``broken``: reject files that cannot be used at all.

Algorithm: open the container with PyAV and demux every video packet (no decoding, so it is
cheap); then decode the first video frame. Rejected: unreadable/truncated containers, files
without a video or an audio stream, and files whose video has zero frames or zero length.
Unlike the seed, inputs are never deleted; the manifest records why they were left out.
"""

from __future__ import annotations

from pathlib import Path

import av

from latentsync.data.stage import Settings, Stage, StageRecord
from latentsync.video.probe import scan_streams
from latentsync.video.reader import iter_timed_frames


class BrokenVideoFilter(Stage):
    name = "broken"

    def run(self, src: Path, dst: Path, settings: Settings) -> StageRecord:
        if src.stat().st_size == 0:
            return StageRecord.rejected("empty file")
        try:
            info = scan_streams(src)
            if info.has_video:
                next(iter_timed_frames(src), None)
        except (av.FFmpegError, OSError, ValueError) as exc:
            return StageRecord.rejected(f"undecodable: {type(exc).__name__}")
        if not info.has_video:
            return StageRecord.rejected("no video stream")
        if not info.has_audio:
            return StageRecord.rejected("no audio stream")
        if info.video_packets == 0 or info.duration <= 0:
            return StageRecord.rejected("zero length")
        return StageRecord.kept([src], duration=round(info.duration, 3), fps=info.fps)
