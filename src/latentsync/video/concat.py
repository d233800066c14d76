"""Joining independently encoded video segments by remuxing their packets (no re-encode)."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path

import av

from latentsync.video.container import open_video

logger = logging.getLogger(__name__)


def concat_segments(segment_paths: Sequence[str | Path], output_path: str | Path) -> None:
    """Write the video streams of ``segment_paths`` one after another into ``output_path``.

    Segments must each start with a keyframe and share codec, size, pixel format and codec headers
    (the pipeline's resumable segments, all written by the same VideoWriter settings): the decoded
    frames of the result are exactly the segments' frames. Only video is joined; ``mux_segments``
    (video/mux.py) joins and adds the audio in one pass.
    """
    with av.open(str(output_path), mode="w") as out:
        for packet in JoinedSegments(segment_paths, out):
            out.mux(packet)


class JoinedSegments:
    """The packets of several segment files as one stream of ``out`` (added at construction).

    Each segment's timestamps are shifted to start where the previous one ended; packets are read
    one segment at a time, so memory does not depend on the video's length.
    """

    def __init__(self, segment_paths: Sequence[str | Path], out: av.container.OutputContainer):
        if not segment_paths:
            raise ValueError("no segments to concatenate")
        self.paths = list(segment_paths)
        container, stream = open_video(self.paths[0])
        with container:
            self.stream = out.add_stream_from_template(stream)
            self.reference, self.time_base = _signature(stream), stream.time_base

    def __iter__(self) -> Iterator[av.Packet]:
        offset = 0  # output time base: where the next segment starts
        last_dts: int | None = None
        for path in self.paths:
            container, stream = open_video(path)
            with container:
                signature = _signature(stream)
                if signature != self.reference:
                    raise ValueError(
                        f"segment {path} is not encoded like the first segment: {_diff(self.reference, signature)}"
                    )
                scale = Fraction(stream.time_base) / self.time_base
                frame_ticks = _frame_ticks(stream, self.time_base)
                start = stream.start_time if stream.start_time is not None else 0
                end = offset
                count = 0
                for packet in container.demux(stream):
                    if packet.size == 0 or packet.pts is None:
                        continue
                    pts = round((packet.pts - start) * scale) + offset
                    dts = pts if packet.dts is None else round((packet.dts - start) * scale) + offset
                    if last_dts is not None and dts <= last_dts:
                        logger.warning("%s: packet decode time overlaps the previous segment; nudged", path)
                        dts = last_dts + 1
                    duration = round(packet.duration * scale) if packet.duration else frame_ticks
                    packet.time_base = self.time_base
                    packet.pts, packet.dts, packet.duration = pts, dts, duration
                    packet.stream = self.stream
                    yield packet
                    last_dts = dts
                    end = max(end, pts + duration)
                    count += 1
                logger.debug("joined %s: %d packets", path, count)
                offset = end


def _signature(stream: av.video.stream.VideoStream) -> dict:
    ctx = stream.codec_context
    return {
        "codec": ctx.name,
        "size": (ctx.width, ctx.height),
        "pix_fmt": ctx.pix_fmt,
        "extradata": bytes(ctx.extradata or b""),
    }


def _diff(a: dict, b: dict) -> str:
    return ", ".join(
        f"{key} {'differs' if key == 'extradata' else f'{a[key]} != {b[key]}'}"
        for key in a
        if a[key] != b[key]
    )


def _frame_ticks(stream: av.video.stream.VideoStream, time_base: Fraction) -> int:
    rate = stream.average_rate or stream.guessed_rate or Fraction(25)
    return max(1, round(1 / (Fraction(rate) * time_base)))
