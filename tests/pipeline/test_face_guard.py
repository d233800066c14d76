"""The anti-flicker guard: a face seen in fewer than ``min_face_frames`` frames in a row is not lip-synced."""

from __future__ import annotations

import numpy as np
import pytest

from latentsync.pipeline.chunker import Chunk, ChunkPlanner
from latentsync.pipeline.faces import FrameItem

AFFINE = np.eye(2, 3, dtype=np.float32)


def frames(pattern: str) -> list[FrameItem]:
    """'F' = a frame with a face, '.' = without."""
    return [
        FrameItem(index=i, frame=np.zeros((2, 2, 3), np.uint8), affine=AFFINE if c == "F" else None)
        for i, c in enumerate(pattern)
    ]


def synced(
    pattern: str, min_face_frames: int = 5, segment_frames: int = 1000, resume_at: int | None = None
) -> tuple[str, int | None]:
    """The pattern after planning: 'S' = frame sent to the model, '.' = passed through."""
    items = frames(pattern)
    out = ["?"] * len(items)

    def run(planner, stream):
        for unit in planner.plan(stream):
            for item in unit.items if isinstance(unit, Chunk) else [unit]:
                out[item.index] = "S" if isinstance(unit, Chunk) else "."

    planner = ChunkPlanner(16, segment_frames, fade_frames=2, min_face_frames=min_face_frames)
    if resume_at is None:
        run(planner, items)
        return "".join(out), planner.brief_frames
    # a resumed run: frames before the segment start come from the first run; a fresh planner takes
    # the state saved at that segment start and plans the rest
    for item in items:
        if item.index % segment_frames == 0:
            item.state = {}
    run(planner, items)
    state = items[resume_at].state
    fresh = ChunkPlanner(16, segment_frames, fade_frames=2, min_face_frames=min_face_frames)
    if state and "planner" in state:
        fresh.load_state_dict(state["planner"])
    for item in items[resume_at:]:
        item.affine = AFFINE if pattern[item.index] == "F" else None
        item.state = {} if item.index % segment_frames == 0 else None
    run(fresh, items[resume_at:])
    return "".join(out), None


@pytest.mark.parametrize(
    "pattern, expected, brief",
    [
        ("....FFF.....", "............", 3),  # a 3-frame flash: left alone
        ("FF..........", "............", 2),  # brief at the start of the video
        ("..........FF", "............", 2),  # brief at the end
        ("..FFFFF.....", "..SSSSS.....", 0),  # exactly the minimum: lip-synced
        ("FFFFFFFF.FF.FFFFFF", "SSSSSSSS....SSSSSS", 2),  # a flash between two lasting runs
    ],
)
def test_brief_faces_pass_through_and_are_counted(pattern, expected, brief):
    result, counted = synced(pattern)
    assert result == expected
    assert counted == brief


def test_guard_off_with_one_frame():
    result, counted = synced("..F..FF..", min_face_frames=1)
    assert result == "..S..SS.." and counted == 0


def test_a_long_run_crossing_a_segment_boundary_is_not_cut_by_a_resume():
    # a 6-frame face run spans the segment start at frame 8: only 4 of its frames lie after it, so a
    # resumed planner must know the run was already long enough
    pattern = "......FFFFFF......"
    whole, _ = synced(pattern, segment_frames=8)
    resumed, _ = synced(pattern, segment_frames=8, resume_at=8)
    assert whole == "......SSSSSS......"
    assert resumed == whole


def test_brief_frames_lose_their_face_so_they_count_as_unchanged():
    items = frames("..FF..")
    planner = ChunkPlanner(16, 1000, fade_frames=2, min_face_frames=5)
    out = list(planner.plan(items))
    assert all(not isinstance(unit, Chunk) for unit in out)
    assert not any(item.has_face for item in items)
    assert all(item.alpha == 0.0 for item in items)
