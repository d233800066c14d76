"""Decoding any frame range of a file by seeking to the keyframe before it, in constant memory."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import av

from latentsync.video.container import complete_frame_count, open_video
from latentsync.video.decoding import decode_video_frames
from latentsync.video.frame_table import FrameTable, read_frame_table

logger = logging.getLogger(__name__)

_SEEK_RETRIES = 3


class SeekableVideo:
    """An open video whose frames are addressed by number (presentation order, 0-based)."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        self._open()
        self._table: FrameTable | None = None
        complete = complete_frame_count(self.path, self.stream)
        if complete is not None:
            logger.warning("%s is truncated: only about %d frames are complete", self.path, complete)

    def _open(self) -> None:
        self.container, self.stream = open_video(self.path)
        self.stream.thread_type = "AUTO"
        self._fresh = True

    def __enter__(self) -> SeekableVideo:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.container.close()

    @property
    def table(self) -> FrameTable:
        if self._table is None:
            self._fresh = False
            self._table = read_frame_table(self.container, self.stream)
        return self._table

    def frames(self, start: int = 0, stop: int | None = None) -> Iterator[av.VideoFrame]:
        """Frames ``start`` .. ``stop - 1`` (to the end if ``stop`` is None or past the end)."""
        if stop is not None and start >= stop:
            return
        if start <= 0:
            yield from self._from_beginning(0, stop)
            return
        table = self.table
        if table.pts is None or start >= len(table):
            yield from self._from_beginning(start, stop)
            return
        target = table.pts[start]
        seek_to = target
        for _ in range(_SEEK_RETRIES):
            self._fresh = False
            self.container.seek(seek_to, stream=self.stream, backward=True, any_frame=False)
            decoded = decode_video_frames(self.container, self.stream, self.path)
            first_kept = None
            for frame in decoded:
                if frame.pts is None:
                    break
                if frame.pts >= target:
                    first_kept = frame
                    break
            if first_kept is not None and first_kept.pts == target:
                yield from _take(_chain_first(first_kept, decoded), start, stop)
                return
            if first_kept is None or first_kept.pts is None:
                break
            # The keyframe found could not reach the target (leading frames of an open GOP are
            # dropped after a seek): go one keyframe further back.
            seek_to = min(seek_to, first_kept.pts) - 1
        logger.info("%s: seek to frame %d was not exact; decoding from the start", self.path, start)
        yield from self._from_beginning(start, stop)

    def _from_beginning(self, start: int, stop: int | None) -> Iterator[av.VideoFrame]:
        # Reopening is cheap and, unlike seeking to 0, right for every container and start time.
        if not self._fresh:
            self.container.close()
            self._open()
        self._fresh = False
        decoded = decode_video_frames(self.container, self.stream, self.path)
        for index, frame in enumerate(decoded):
            if stop is not None and index >= stop:
                return
            if index >= start:
                yield frame


def _chain_first(first: av.VideoFrame, rest: Iterator[av.VideoFrame]) -> Iterator[av.VideoFrame]:
    yield first
    yield from rest


def _take(frames: Iterator[av.VideoFrame], start: int, stop: int | None) -> Iterator[av.VideoFrame]:
    index = start
    for frame in frames:
        if stop is not None and index >= stop:
            return
        yield frame
        index += 1
