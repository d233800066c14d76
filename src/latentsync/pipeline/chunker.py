"""Grouping frames into model chunks, and the fade at the edges of face segments.

A chunk is a run of consecutive frames that have a face and audio, at most ``num_frames`` long,
never crossing a no-face gap or a segment boundary (segments are the resumable unit). Faces
fade in and out over ``fade_frames`` frames next to a gap so the mouth does not pop. A face seen in
fewer than ``min_face_frames`` frames in a row (a false detection, a face flashing past) is not
lip-synced at all: its frames pass through unchanged, counted in ``brief_frames``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from latentsync.pipeline.faces import FrameItem


@dataclass
class Chunk:
    items: list[FrameItem]

    def __len__(self) -> int:
        return len(self.items)


def fade_alpha(since_gap: int | None, until_gap: int | None, fade_frames: int) -> float:
    """Blend weight from the distances (in frames, >= 1) to the nearest no-face frame on each side."""
    if fade_frames <= 0:
        return 1.0
    nearest = min(d for d in (since_gap, until_gap, fade_frames + 1) if d is not None)
    return min(1.0, nearest / (fade_frames + 1))


class ChunkPlanner:
    """Turns the ordered frame stream into pass-through frames and chunks for the model."""

    def __init__(self, num_frames: int, segment_frames: int, fade_frames: int = 3, min_face_frames: int = 1):
        self.num_frames = num_frames
        self.segment_frames = segment_frames
        self.fade_frames = fade_frames
        self.min_face_frames = max(1, min_face_frames)
        self.since_gap: int | None = None  # frames since the last no-face frame (None: none seen)
        self.confirmed = False  # the face run in progress is long enough to lip-sync
        self.brief_frames = 0  # frames passed through by the min_face_frames guard

    @staticmethod
    def _usable(item: FrameItem) -> bool:
        return item.has_face and item.in_audio

    def state_dict(self) -> dict:
        return {"since_gap": self.since_gap, "confirmed": self.confirmed}

    def load_state_dict(self, state: dict) -> None:
        self.since_gap = state.get("since_gap")
        self.confirmed = bool(state.get("confirmed", False))

    def _face_run(self, pending: deque[FrameItem]) -> tuple[int, bool]:
        """(usable frames from pending[0], up to min_face_frames; whether a gap closes the run there)."""
        n = 0
        for item in pending:
            if not self._usable(item):
                return n, True
            n += 1
            if n == self.min_face_frames:
                return n, False
        return n, False

    def _segment(self, item: FrameItem) -> int:
        return item.segment if item.segment is not None else item.index // self.segment_frames

    def _run_length(self, pending: deque[FrameItem]) -> int:
        """Length of the chunk starting at pending[0] (usable, same segment, <= num_frames)."""
        segment = self._segment(pending[0])
        n = 0
        for item in pending:
            if n == self.num_frames or not self._usable(item) or self._segment(item) != segment:
                break
            n += 1
        return n

    def _until_gap(self, pending: deque[FrameItem], position: int) -> int | None:
        """Frames from pending[position] to the next no-face frame (None: none within the fade window,
        or the video ends first, which needs no fade)."""
        for distance in range(1, self.fade_frames + 1):
            if position + distance >= len(pending):
                return None
            if not self._usable(pending[position + distance]):
                return distance
        return None

    def _ready(self, pending: deque[FrameItem], ended: bool) -> bool:
        if ended:
            return True
        if self._usable(pending[0]) and not self.confirmed:
            seen, closed = self._face_run(pending)
            if seen < self.min_face_frames and not closed:
                return False  # cannot tell a brief face from a lasting one yet
        n = self._run_length(pending)
        # Decidable once the run is closed by something after it, plus the fade look-ahead.
        return (
            len(pending) >= n + 1 + self.fade_frames
            if n < self.num_frames
            else len(pending) >= n + self.fade_frames
        )

    def plan(self, items: Iterable[FrameItem]) -> Iterator[FrameItem | Chunk]:
        pending: deque[FrameItem] = deque()
        source = iter(items)
        ended = False
        while True:
            while not ended and (not pending or not self._ready(pending, ended)):
                item = next(source, None)
                if item is None:
                    ended = True
                else:
                    pending.append(item)
            if not pending:
                return
            head = pending[0]
            if head.state is not None and "planner" not in head.state:
                head.state["planner"] = self.state_dict()  # a segment starts here: save for resuming
            if self._usable(head) and not self.confirmed:
                seen, _ = self._face_run(pending)
                if seen < self.min_face_frames:  # closed by a gap or the end: too brief to lip-sync
                    for position in range(seen):
                        pending[position].affine, pending[position].face = None, None
                    self.brief_frames += seen
                self.confirmed = self._usable(head)
            if not self._usable(head):
                item = pending.popleft()
                item.alpha = 0.0
                self.since_gap = 0
                self.confirmed = False
                yield item
                continue
            n = self._run_length(pending)
            chunk = []
            for position in range(n):
                item = pending[position]
                self.since_gap = None if self.since_gap is None else self.since_gap + 1
                item.alpha = fade_alpha(self.since_gap, self._until_gap(pending, position), self.fade_frames)
                chunk.append(item)
            for _ in range(n):
                pending.popleft()
            yield Chunk(chunk)
