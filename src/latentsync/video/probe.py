"""What a video is (size as shown, frame rate, length, orientation, format) before any heavy work starts."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from latentsync.errors import InputError
from latentsync.video.container import complete_frame_count, open_video
from latentsync.video.decoding import decode_video_frames

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class VideoInfo:
    """Facts about a video's first video stream.

    ``width``/``height`` are as displayed (after rotation). ``rotation`` is the clockwise turn in
    degrees (0/90/180/270) a player applies to the stored picture, the convention of the classic
    ``rotate`` tag: a portrait phone clip stored landscape says 90. ``num_frames`` is exact when the
    container has a frame index and is not truncated, else estimated from duration x fps.
    """

    width: int
    height: int
    fps: Fraction
    num_frames: int
    duration: float
    rotation: int
    pix_fmt: str
    bit_depth: int
    has_audio: bool
    codec: str
    truncated: bool = False


def probe_video(path: str | Path) -> VideoInfo:
    """Probe ``path``; InputError if it is missing, empty, not a video, or has no decodable frame."""
    container, stream = open_video(path)
    with container:
        first = next(iter(decode_video_frames(container, stream, str(path))), None)
        if first is None:
            raise InputError(f"video file has no decodable frames (truncated or corrupt): {path}")
        fps = _frame_rate(stream)
        rotation = _clockwise_rotation(first, stream)
        coded_w, coded_h = first.width, first.height
        width, height = (coded_h, coded_w) if rotation in (90, 270) else (coded_w, coded_h)
        duration = _duration_seconds(container, stream)
        num_frames, complete = _frame_count(path, stream, duration, fps)
        if not complete:
            duration = float(num_frames / fps)
            logger.warning("%s is truncated: about %d frames are complete", path, num_frames)
        fmt = first.format
        return VideoInfo(
            width=width,
            height=height,
            fps=fps,
            num_frames=num_frames,
            duration=duration,
            rotation=rotation,
            pix_fmt=fmt.name,
            bit_depth=max(c.bits for c in fmt.components),
            has_audio=bool(container.streams.audio),
            codec=stream.codec_context.name,
            truncated=not complete,
        )


def _frame_rate(stream: av.video.stream.VideoStream) -> Fraction:
    """Average rate (right for variable-rate phone clips); falls back to the guessed rate."""
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate:
            return Fraction(rate)
    raise InputError("video stream has no frame rate")


def _clockwise_rotation(first_frame: av.VideoFrame, stream: av.video.stream.VideoStream) -> int:
    """From the display matrix the decoder attaches to frames, else the legacy ``rotate`` tag."""
    ccw = first_frame.rotation
    if ccw:
        return int(round(-ccw / 90) * 90) % 360
    tag = stream.metadata.get("rotate")
    if tag:
        try:
            return int(round(float(tag) / 90) * 90) % 360
        except ValueError:
            logger.warning("ignoring unreadable rotate tag %r", tag)
    return 0


def _duration_seconds(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> float:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    return 0.0


def _frame_count(
    path: str | Path, stream: av.video.stream.VideoStream, duration: float, fps: Fraction
) -> tuple[int, bool]:
    """(frames, whether the file holds all of them)."""
    complete = complete_frame_count(path, stream)
    if complete is not None:
        return complete, False
    if stream.frames:
        return stream.frames, True
    return max(1, round(duration * fps)), True


@dataclass(frozen=True)
class StreamScan:
    has_video: bool
    has_audio: bool
    fps: float
    width: int
    height: int
    video_packets: int
    duration: float


def scan_streams(path: str | Path) -> StreamScan:
    """Stream facts from demuxing every packet (cheap: no decoding; an audio-only file is fine);
    raises on unreadable files. The data pipeline uses it to sort out broken downloads."""
    with av.open(str(path)) as container:
        video = container.streams.video[0] if container.streams.video else None
        audio = container.streams.audio[0] if container.streams.audio else None
        packets = 0
        last_time = 0.0
        if video is not None:
            for packet in container.demux(video):
                if packet.size == 0 or packet.pts is None:
                    continue
                packets += 1
                end = (packet.pts + (packet.duration or 0)) * float(packet.time_base)
                last_time = max(last_time, end)
        fps = float(video.average_rate) if video is not None and video.average_rate else 0.0
        return StreamScan(
            has_video=video is not None,
            has_audio=audio is not None,
            fps=fps,
            width=video.codec_context.width if video is not None else 0,
            height=video.codec_context.height if video is not None else 0,
            video_packets=packets,
            duration=last_time,
        )
