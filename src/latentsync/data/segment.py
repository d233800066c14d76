"""Stage 4, ``segment``: cut each shot into 5-10 s clips.

The seed runs ffmpeg's segment muxer with ``-segment_time 5``, giving 5 s pieces plus a
shorter remainder. Here the cut is frame-exact: ``n = frames // 125`` segments of 125 frames
(5 s at 25 fps), the last one absorbing the remainder (so every clip lasts 5 s to just under
10 s, as the training loader needs); a shot shorter than 5 s is rejected. Clips are named
``<name>_NNN.mp4`` from 000, like the seed's ``%03d``.
"""

from __future__ import annotations

from pathlib import Path

from latentsync.data.splitting import split_by_frames
from latentsync.data.stage import Settings, Stage, StageRecord
from latentsync.video.clip_file import CLIP_FPS
from latentsync.video.probe import scan_streams

SEGMENT_SECONDS = 5


def segment_ranges(frames: int, fps: int = CLIP_FPS, seconds: int = SEGMENT_SECONDS) -> list[tuple[int, int]]:
    """``[start, end)`` ranges of 5 s pieces, the remainder merged into the last one."""
    size = fps * seconds
    count = frames // size
    ranges = [(i * size, (i + 1) * size) for i in range(count)]
    if ranges:
        ranges[-1] = (ranges[-1][0], frames)
    return ranges


class Segmenter(Stage):
    name = "segment"
    output_folder = "segmented"

    def run(self, src: Path, dst: Path, settings: Settings) -> StageRecord:
        frames = scan_streams(src).video_packets
        ranges = segment_ranges(frames)
        if not ranges:
            return StageRecord.rejected(f"shorter than {SEGMENT_SECONDS} s", duration=frames / CLIP_FPS)
        outputs = [dst.with_name(f"{dst.stem}_{i:03d}.mp4") for i in range(len(ranges))]
        written = split_by_frames(src, ranges, outputs)
        durations = [(end - start) / CLIP_FPS for start, end in ranges]
        return StageRecord.kept(written, segments=len(written), output_durations=durations)
