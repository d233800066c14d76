"""Putting the driving audio next to the generated video, without re-encoding the video."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path

import av

from latentsync.video.audio_track import add_encoded_stream, can_copy, copied_packets, encoded_packets
from latentsync.video.concat import JoinedSegments, concat_segments
from latentsync.video.container import open_audio, open_video

logger = logging.getLogger(__name__)

__all__ = ["mux_audio", "mux_segments", "mux_without_audio", "concat_segments"]


def mux_audio(
    video_path: str | Path,
    audio_path: str | Path,
    output_path: str | Path,
    audio_offset_seconds: float = 0.0,
    duration_seconds: float | None = None,
    copy_audio: bool = True,
) -> None:
    """Write ``output_path`` with the video stream of ``video_path`` and the audio of ``audio_path``.

    The audio keeps its own sample rate and channel count. It starts at ``audio_offset_seconds`` of
    the driving file and lasts ``duration_seconds`` (default: all of it). It is stream-copied when
    the output container takes its codec and no cut inside the first packet is needed (offset 0; a
    duration then ends within one packet, ~21 ms); otherwise, or with ``copy_audio=False``, it is
    decoded, cut sample-exactly and encoded as AAC at 160 kb/s per channel. ``audio_path`` may be
    any audio file or a video with sound. The video is never trimmed (cutting copied packets could
    break B-frame references): write the video at the length you want.
    """
    _check_cut(audio_offset_seconds, duration_seconds)
    video_in, video_stream = open_video(video_path)
    with video_in, av.open(str(output_path), mode="w") as out:
        out_video = out.add_stream_from_template(video_stream)
        _mux_with_audio(
            out,
            (_copied_video_packets(video_in, video_stream), out_video),
            audio_path,
            audio_offset_seconds,
            duration_seconds,
            copy_audio,
        )


def mux_segments(
    segment_paths: Sequence[str | Path],
    audio_path: str | Path,
    output_path: str | Path,
    duration_seconds: float | None = None,
) -> None:
    """Join encoded segments (see ``concat_segments``) and add the audio, writing the output once."""
    _check_cut(0.0, duration_seconds)
    with av.open(str(output_path), mode="w") as out:
        joined = JoinedSegments(segment_paths, out)
        _mux_with_audio(out, (iter(joined), joined.stream), audio_path, 0.0, duration_seconds, True)


def _check_cut(audio_offset_seconds: float, duration_seconds: float | None) -> None:
    if audio_offset_seconds < 0:
        raise ValueError(f"audio_offset_seconds must be >= 0, got {audio_offset_seconds}")
    if duration_seconds is not None and duration_seconds <= 0:
        raise ValueError(f"duration_seconds must be > 0, got {duration_seconds}")


def _mux_with_audio(
    out: av.container.OutputContainer,
    video: tuple[Iterator[av.Packet], av.stream.Stream],
    audio_path: str | Path,
    audio_offset_seconds: float,
    duration_seconds: float | None,
    copy_audio: bool,
) -> None:
    """Add the audio stream of ``audio_path`` to ``out`` and mux both streams interleaved."""
    audio_in, audio_stream = open_audio(audio_path)
    with audio_in:
        copy = (
            copy_audio
            and audio_offset_seconds == 0
            and can_copy(audio_stream.codec_context.name, out.format.name)
        )
        if copy:
            out_audio = out.add_stream_from_template(audio_stream)
            audio_packets = copied_packets(audio_in, audio_stream, duration_seconds)
        else:
            out_audio = add_encoded_stream(out, audio_stream)
            audio_packets = encoded_packets(
                audio_in, audio_stream, out_audio, audio_offset_seconds, duration_seconds
            )
        logger.info(
            "muxing %s audio (%s, %d Hz, %d ch) from %s",
            "copied" if copy else "AAC-encoded",
            audio_stream.codec_context.name,
            audio_stream.rate,
            audio_stream.layout.nb_channels,
            audio_path,
        )
        for packet, stream in _interleaved(video, (audio_packets, out_audio)):
            packet.stream = stream
            out.mux(packet)


def mux_without_audio(video_path: str | Path, output_path: str | Path) -> None:
    """Copy only the video stream of ``video_path`` to ``output_path`` (a silent result)."""
    video_in, video_stream = open_video(video_path)
    with video_in, av.open(str(output_path), mode="w") as out:
        out_video = out.add_stream_from_template(video_stream)
        for packet in _copied_video_packets(video_in, video_stream):
            packet.stream = out_video
            out.mux(packet)


def _copied_video_packets(container: av.container.InputContainer, stream) -> Iterator[av.Packet]:
    for packet in container.demux(stream):
        if packet.dts is None and packet.pts is None:
            continue
        yield packet


def _interleaved(
    *sources: tuple[Iterator[av.Packet], av.stream.Stream],
) -> Iterator[tuple[av.Packet, av.stream.Stream]]:
    """Packets of all sources in time order, so the muxer never buffers a whole stream."""
    heads: list[tuple[av.Packet | None, Iterator[av.Packet], av.stream.Stream]] = [
        (next(packets, None), packets, stream) for packets, stream in sources
    ]
    while True:
        live = [(i, head) for i, head in enumerate(heads) if head[0] is not None]
        if not live:
            return
        i, (packet, packets, stream) = min(live, key=lambda item: _seconds(item[1][0]))
        yield packet, stream
        heads[i] = (next(packets, None), packets, stream)


def _seconds(packet: av.Packet) -> float:
    ts = packet.dts if packet.dts is not None else packet.pts
    return float(ts * packet.time_base) if ts is not None else 0.0
