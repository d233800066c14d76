"""Stage 3, ``shot``: split each video at its hard cuts.

Algorithm: PySceneDetect's ``ContentDetector`` (HSV content difference between consecutive
frames, default threshold 27, minimum scene length 15 frames) on the 25 fps clip, through its
PyAV backend; each detected scene is written as ``<name>_shot_NNN.mp4`` (NNN from 001, like the
seed's ``$SCENE_NUMBER``). A video without cuts becomes one shot.
"""

from __future__ import annotations

from pathlib import Path

from scenedetect import ContentDetector, SceneManager, open_video

from latentsync.data.media import TARGET_FPS
from latentsync.data.splitting import split_by_frames
from latentsync.data.stage import Settings, Stage, StageRecord


def detect_cuts(path: Path, threshold: float = 27.0) -> list[tuple[int, int]]:
    """Frame ranges ``[start, end)`` of the scenes of a video."""
    video = open_video(str(path), backend="pyav")
    manager = SceneManager()
    manager.add_detector(ContentDetector(threshold=threshold))
    manager.detect_scenes(video)
    scenes = manager.get_scene_list()
    if not scenes:
        return [(0, video.frame_number)]
    return [(start.get_frames(), end.get_frames()) for start, end in scenes]


class ShotSplitter(Stage):
    name = "shot"

    def folder(self, settings: Settings) -> str | None:
        return "shot"

    def run(self, src: Path, dst: Path, settings: Settings) -> StageRecord:
        ranges = detect_cuts(src)
        outputs = [dst.with_name(f"{dst.stem}_shot_{i + 1:03d}.mp4") for i in range(len(ranges))]
        written = split_by_frames(src, ranges, outputs)
        cuts = [start for start, _ in ranges[1:]]
        durations = [(end - start) / TARGET_FPS for start, end in ranges]
        return StageRecord.kept(written, shots=len(written), cut_frames=cuts, output_durations=durations)
