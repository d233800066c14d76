"""Stage 3, ``shot``: split each video at its hard cuts.

Algorithm: hard cuts found by ``video.scenes.detect_cuts`` (PySceneDetect's ``ContentDetector``)
on the 25 fps clip; each detected scene is written as ``<name>_shot_NNN.mp4`` (NNN from 001, like the
seed's ``$SCENE_NUMBER``). A video without cuts becomes one shot.
"""

from __future__ import annotations

from pathlib import Path

from latentsync.data.splitting import split_by_frames
from latentsync.data.stage import Settings, Stage, StageRecord
from latentsync.video.clip_file import CLIP_FPS
from latentsync.video.scenes import detect_cuts


class ShotSplitter(Stage):
    name = "shot"
    output_folder = "shot"

    def run(self, src: Path, dst: Path, settings: Settings) -> StageRecord:
        ranges = detect_cuts(src)
        outputs = [dst.with_name(f"{dst.stem}_shot_{i + 1:03d}.mp4") for i in range(len(ranges))]
        written = split_by_frames(src, ranges, outputs)
        cuts = [start for start, _ in ranges[1:]]
        durations = [(end - start) / CLIP_FPS for start, end in ranges]
        return StageRecord.kept(written, shots=len(written), cut_frames=cuts, output_durations=durations)
