"""The chunk planner (model chunks never cross a gap or a segment) and the mouth fade at gaps."""

import numpy as np
import pytest

from latentsync.pipeline.chunker import Chunk, ChunkPlanner, fade_alpha
from latentsync.pipeline.faces import FrameItem

AFFINE = np.eye(2, 3, dtype=np.float32)


def _items(count: int, no_face=(), silent=()):
    frame = np.zeros((4, 4, 3), np.uint8)
    return [
        FrameItem(index=i, frame=frame, affine=None if i in no_face else AFFINE, in_audio=i not in silent)
        for i in range(count)
    ]


def _layout(planned) -> list[tuple[str, list[int]]]:
    return [
        ("chunk", [it.index for it in p.items]) if isinstance(p, Chunk) else ("pass", [p.index])
        for p in planned
    ]


@pytest.mark.parametrize(
    ("since", "until", "fade", "expected"),
    [
        (None, None, 3, 1.0),
        (1, None, 3, 0.25),
        (None, 2, 3, 0.5),
        (3, 1, 3, 0.25),
        (5, None, 3, 1.0),
        (1, 1, 0, 1.0),
    ],
)
def test_fade_alpha_is_the_distance_to_the_nearest_gap(since, until, fade, expected):
    assert fade_alpha(since, until, fade) == pytest.approx(expected)


def test_chunks_stop_at_gaps_segments_and_the_chunk_length():
    planned = list(ChunkPlanner(num_frames=16, segment_frames=32).plan(_items(40, no_face={20, 21, 22})))
    assert _layout(planned) == [
        ("chunk", list(range(0, 16))),
        ("chunk", list(range(16, 20))),
        ("pass", [20]),
        ("pass", [21]),
        ("pass", [22]),
        ("chunk", list(range(23, 32))),  # ends at the segment boundary (32), not after 16 frames
        ("chunk", list(range(32, 40))),
    ]


def test_mouth_fades_out_before_a_gap_and_in_after_it():
    items = _items(40, no_face={20, 21, 22})
    list(ChunkPlanner(num_frames=16, segment_frames=32, fade_frames=3).plan(items))
    alpha = {it.index: it.alpha for it in items}
    assert [alpha[i] for i in (16, 17, 18, 19)] == pytest.approx([1.0, 0.75, 0.5, 0.25])
    assert [alpha[i] for i in (20, 21, 22)] == [0.0, 0.0, 0.0]
    assert [alpha[i] for i in (23, 24, 25, 26)] == pytest.approx([0.25, 0.5, 0.75, 1.0])
    assert alpha[0] == 1.0 and alpha[39] == 1.0  # the video's own start and end need no fade


def test_frames_past_the_audio_pass_through():
    planned = list(ChunkPlanner(num_frames=16, segment_frames=64).plan(_items(24, silent=set(range(20, 24)))))
    assert _layout(planned) == [("chunk", list(range(16))), ("chunk", [16, 17, 18, 19])] + [
        ("pass", [i]) for i in range(20, 24)
    ]
