"""Joining independently encoded video segments by remuxing their packets (no re-encode)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av

from latentsync.video.container import open_video

logger = logging.getLogger(__name__)


def concat_segments(segment_paths: Sequence[str | Path], output_path: str | Path) -> None:
    """Write the video streams of ``segment_paths`` one after another into ``output_path``.

    Segments must each start with a keyframe and share codec, size, pixel format and codec headers
    (the pipeline's resumable segments, all written by the same VideoWriter settings): the decoded
    frames of the result are exactly the segments' frames. Each segment's timestamps are shifted to
    start where the previous one ended. Only video is joined; add the audio with ``mux_audio``.
    """
    if not segment_paths:
        raise ValueError("no segments to concatenate")
    with av.open(str(output_path), mode="w") as out:
        out_stream = None
        reference = None
        out_tb: Fraction | None = None
        offset = 0  # output time base: where the next segment starts
        last_dts: int | None = None
        for path in segment_paths:
            container, stream = open_video(path)
            with container:
                signature = _signature(stream)
                if out_stream is None:
                    out_stream = out.add_stream_from_template(stream)
                    reference, out_tb = signature, stream.time_base
                elif signature != reference:
                    raise ValueError(
                        f"segment {path} is not encoded like the first segment: {_diff(reference, signature)}"
                    )
                scale = Fraction(stream.time_base) / out_tb
                frame_ticks = _frame_ticks(stream, out_tb)
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
                    packet.time_base = out_tb
                    packet.pts, packet.dts, packet.duration = pts, dts, duration
                    packet.stream = out_stream
                    out.mux(packet)
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
