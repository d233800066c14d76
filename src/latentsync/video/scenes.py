"""Hard cuts of a video: PySceneDetect's ``ContentDetector`` (HSV content difference between
consecutive frames, default threshold 27, minimum scene length 15 frames) through its PyAV backend.
Used to split training videos into shots and to score evaluation clips per shot.
"""

from __future__ import annotations

from pathlib import Path

from scenedetect import ContentDetector, SceneManager, open_video


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
