"""Encoding RGB frames to H.264/H.265 with the exact source size and frame rate."""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from latentsync.video.encoder_options import deterministic_options, merge_options

logger = logging.getLogger(__name__)

_CHROMA_SUBSAMPLED = {"yuv420p": "yuv444p", "yuv422p": "yuv444p", "yuv420p10le": "yuv444p10le"}
_QUIET_ENCODER_OPTIONS = {"libx265": {"x265-params": "log-level=error"}}


def exact_rate(fps: Fraction | int | float | str) -> Fraction:
    """A frame rate as an exact fraction; float NTSC rates (29.97...) snap to n/1001."""
    if isinstance(fps, float):
        return Fraction(fps).limit_denominator(1001)
    return Fraction(fps)


class VideoWriter:
    """Context manager writing HxWx3 uint8 RGB frames, one ``write`` at a time.

    Odd sizes: 4:2:0 needs even width and height (H.264/H.265 cannot crop by one luma pixel in
    4:2:0), so an odd size switches to 4:4:4 chroma (``yuv444p``), which keeps the exact size
    and full colour at the cost of player support (browsers and QuickTime may refuse 4:4:4 H.264).
    Colour: frames are converted with the BT.709 matrix, limited range, and tagged so, which
    every player and our reader interpret the same way.
    Timing: the stream time base is 1/fps and frame k has pts k, so 30000/1001 stays exact.
    Reproducible: the same frames and settings give the same pictures at every size (see
    ``encoder_options``: libx264's AVX-512 kernels are left out because one of them is not).
    """

    def __init__(
        self,
        path: str | Path,
        width: int,
        height: int,
        fps: Fraction | int | float,
        codec: str = "libx264",
        crf: int = 18,
        pix_fmt: str = "yuv420p",
        preset: str = "medium",
        options: dict[str, str] | None = None,
    ):
        if width <= 0 or height <= 0:
            raise ValueError(f"frame size must be positive, got {width}x{height}")
        self.path = Path(path)
        self.width, self.height = width, height
        self.fps = exact_rate(fps)
        if (width % 2 or height % 2) and pix_fmt in _CHROMA_SUBSAMPLED:
            logger.info(
                "odd frame size %dx%d: encoding %s instead of %s",
                width,
                height,
                _CHROMA_SUBSAMPLED[pix_fmt],
                pix_fmt,
            )
            pix_fmt = _CHROMA_SUBSAMPLED[pix_fmt]
        self.pix_fmt = pix_fmt
        self.frames_written = 0
        self._container = av.open(str(self.path), mode="w")
        try:
            stream = self._container.add_stream(codec, rate=self.fps)
            stream.width, stream.height = width, height
            stream.pix_fmt = pix_fmt
            stream.time_base = 1 / self.fps
            stream.codec_context.time_base = 1 / self.fps
            stream.codec_context.colorspace = 1  # BT.709
            stream.codec_context.color_primaries = 1
            stream.codec_context.color_trc = 1
            stream.codec_context.color_range = 1  # limited ("tv")
            stream.options = merge_options(
                {"crf": str(crf), "preset": preset},
                _QUIET_ENCODER_OPTIONS.get(codec),
                deterministic_options(codec),
                options,
            )
        except Exception:
            self._container.close()
            raise
        self._stream = stream
        self._closed = False

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self._abort()

    def write(self, frame_rgb: np.ndarray) -> None:
        """Append one frame (HxWx3 uint8 RGB of the writer's size)."""
        if self._closed:
            raise RuntimeError(f"writer for {self.path} is closed")
        if frame_rgb.shape != (self.height, self.width, 3) or frame_rgb.dtype != np.uint8:
            raise ValueError(
                f"expected a {self.height}x{self.width}x3 uint8 frame, got {frame_rgb.shape} {frame_rgb.dtype}"
            )
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame_rgb), format="rgb24")
        frame = frame.reformat(format=self.pix_fmt, dst_colorspace="ITU709", dst_color_range="MPEG")
        frame.pts = self.frames_written
        frame.time_base = self._stream.codec_context.time_base
        self._container.mux(self._stream.encode(frame))
        self.frames_written += 1

    def close(self) -> None:
        """Flush the encoder and finish the file."""
        if self._closed:
            return
        self._closed = True
        try:
            self._container.mux(self._stream.encode(None))
        finally:
            self._container.close()

    def _abort(self) -> None:
        if not self._closed:
            self._closed = True
            self._container.close()
