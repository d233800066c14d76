"""The driving audio as output packets: copied when the container takes its codec, else AAC-encoded."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from fractions import Fraction

import av
import numpy as np

from latentsync.errors import InputError

logger = logging.getLogger(__name__)

# Audio codecs each output container carries as they are (and that players handle there).
_COPYABLE = {
    "mp4": {"aac", "mp3", "alac", "ac3", "eac3"},
    "mov": {"aac", "mp3", "alac", "ac3", "eac3", "pcm_s16le", "pcm_s24le"},
    "matroska": {"aac", "mp3", "opus", "vorbis", "flac", "alac", "ac3", "eac3", "pcm_s16le", "pcm_s24le"},
}
_AAC_LAYOUTS = {1: "mono", 2: "stereo", 3: "3.0", 4: "4.0", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}
_AAC_BITS_PER_CHANNEL = 160_000  # 320 kb/s for stereo: transparent for speech and music


def can_copy(codec_name: str, container_format: str) -> bool:
    return codec_name in _COPYABLE.get(container_format.split(",")[0], set())


def add_encoded_stream(out: av.container.OutputContainer, source: av.audio.stream.AudioStream):
    """An AAC stream with the source's sample rate and channels (48 kHz if AAC cannot do the rate)."""
    rate = source.rate
    if rate not in av.codec.Codec("aac", "w").audio_rates:
        logger.warning("AAC cannot store %d Hz audio; resampling to 48000 Hz", rate)
        rate = 48000
    channels = source.layout.nb_channels
    stream = out.add_stream("aac", rate=rate, layout=_layout_name(source.layout))
    stream.bit_rate = _AAC_BITS_PER_CHANNEL * channels
    return stream


def _layout_name(layout: av.AudioLayout) -> str:
    """The source layout if AAC has it, else AAC's layout for that channel count."""
    if layout.name in _AAC_LAYOUTS.values():
        return layout.name
    if layout.nb_channels not in _AAC_LAYOUTS:
        raise InputError(f"driving audio has {layout.nb_channels} channels; AAC output takes 1 to 8")
    name = _AAC_LAYOUTS[layout.nb_channels]
    logger.info("audio layout %s stored as %s", layout.name, name)
    return name


def copied_packets(
    source: av.container.InputContainer, stream: av.audio.stream.AudioStream, duration: float | None
) -> Iterator[av.Packet]:
    """Packets as they are; with a duration, those starting before it (ends within one packet)."""
    for packet in source.demux(stream):
        if packet.pts is None or packet.size == 0:
            continue
        if duration is not None and float(packet.pts * packet.time_base) >= duration:
            return
        yield packet


def encoded_packets(
    source: av.container.InputContainer,
    stream: av.audio.stream.AudioStream,
    encoder: av.audio.stream.AudioStream,
    offset: float,
    duration: float | None,
) -> Iterator[av.Packet]:
    """Decode, cut sample-exactly to [offset, offset + duration) and encode with ``encoder``."""
    rate = encoder.codec_context.sample_rate
    layout = encoder.codec_context.layout.name
    resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
    origin = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
    if offset > 0:
        source.seek(int((origin + offset) / stream.time_base), stream=stream, backward=True)
    first = round(offset * rate)
    last = None if duration is None else first + round(duration * rate)
    position: int | None = None  # sample index (from the origin) of the next resampled sample
    written = 0
    for frame in _decoded(source, stream):
        if position is None:
            start = float(frame.pts * frame.time_base) - origin if frame.pts is not None else 0.0
            position = round(start * rate)
        for chunk in resampler.resample(frame):
            position, written, packets = _cut_and_encode(chunk, position, first, last, written, encoder)
            yield from packets
        if last is not None and position >= last:
            break
    else:
        for chunk in resampler.resample(None):
            position, written, packets = _cut_and_encode(chunk, position or 0, first, last, written, encoder)
            yield from packets
    yield from encoder.encode(None)
    logger.debug("encoded %d audio samples at %d Hz", written, rate)


def _cut_and_encode(chunk, position, first, last, written, encoder):
    samples = chunk.to_ndarray()
    begin, end = position, position + samples.shape[1]
    lo = max(first, begin) - begin
    hi = (min(last, end) if last is not None else end) - begin
    packets: list[av.Packet] = []
    if hi > lo:
        piece = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(samples[:, lo:hi]), format="fltp", layout=chunk.layout.name
        )
        piece.sample_rate = chunk.sample_rate
        piece.pts = written
        piece.time_base = Fraction(1, chunk.sample_rate)
        packets = encoder.encode(piece)
        written += hi - lo
    return end, written, packets


def _decoded(
    source: av.container.InputContainer, stream: av.audio.stream.AudioStream
) -> Iterator[av.AudioFrame]:
    """Decoded frames; a damaged tail ends the audio with a warning, like the video reader."""
    packets = source.demux(stream)
    while True:
        try:
            packet = next(packets)
            frames = stream.decode(packet)
        except StopIteration:
            return
        except av.FFmpegError as exc:
            logger.warning("driving audio is damaged; using the audio before the damage (%s)", exc)
            return
        yield from frames
