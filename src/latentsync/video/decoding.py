"""Decoding that survives damaged tails, and conversion of decoded frames to upright 8-bit RGB."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import av
import numpy as np

logger = logging.getLogger(__name__)


def decode_video_frames(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream, source: str
) -> Iterator[av.VideoFrame]:
    """Frames of ``stream`` from the container's current position, in presentation order.

    A truncated or corrupt tail ends the iteration with a warning instead of an exception: the frames
    before the damage are still usable (a phone upload cut short, a copy interrupted mid-way). Frames
    still buffered in the decoder at that point are flushed out rather than lost.
    """
    packets = container.demux(stream)
    count = 0
    flushed = False
    while True:
        try:
            packet = next(packets)
            # The demuxer ends with an empty packet, which makes decode() drain the decoder.
            flushed = packet.size == 0
            frames = stream.decode(packet)
        except StopIteration:
            break
        except av.FFmpegError as exc:
            logger.warning(
                "%s is damaged after %d decoded frames; using those frames (%s)", source, count, exc
            )
            break
        for frame in frames:
            count += 1
            yield frame
    if flushed:
        return
    try:
        for frame in stream.decode(None):
            count += 1
            yield frame
    except av.EOFError:
        pass
    except av.FFmpegError as exc:
        logger.warning("%s: decoder flush failed after %d frames (%s)", source, count, exc)


def frame_to_rgb(frame: av.VideoFrame) -> np.ndarray:
    """HxWx3 uint8 RGB as a player shows it: display rotation applied, any bit depth/alpha/gray in.

    ``to_ndarray(format="rgb24")`` converts with the frame's own colour matrix and range tags (BT.709
    limited for ordinary HD video) and reduces 10-bit to 8-bit, drops alpha and expands gray.
    """
    rgb = frame.to_ndarray(format="rgb24")
    quarter_turns = (round(frame.rotation / 90) % 4) if frame.rotation else 0
    if quarter_turns:
        # frame.rotation is counter-clockwise, as is np.rot90 with positive k.
        rgb = np.ascontiguousarray(np.rot90(rgb, k=quarter_turns))
    return rgb
