"""Presentation timestamps of every frame, so frame numbers map to exact seek targets (VFR-safe)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import av

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FrameTable:
    """``pts[i]`` is the timestamp (stream time base) of output frame ``i``; None if unknown."""

    pts: list[int] | None

    def __len__(self) -> int:
        return len(self.pts) if self.pts is not None else 0


def read_frame_table(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream
) -> FrameTable:
    """Demux (no decoding) the whole video stream once and sort the packet timestamps.

    Reading packets costs roughly a file read, far less than decoding; it is the only exact way to
    number frames of variable-frame-rate clips or clips with B-frames and edit lists. Packets marked
    discard (outside an edit list) produce no frame and are left out. Leaves the container at its
    end: seek before decoding.
    """
    timestamps: list[int] = []
    try:
        for packet in container.demux(stream):
            if packet.size == 0 or packet.is_discard:
                continue
            if packet.pts is None:
                logger.info("video has packets without timestamps; frames are numbered by decoding")
                return FrameTable(None)
            timestamps.append(packet.pts)
    except av.FFmpegError as exc:
        logger.warning("stopped reading the frame table at packet %d (%s)", len(timestamps), exc)
    timestamps.sort()
    return FrameTable(timestamps)
