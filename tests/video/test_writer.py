"""VideoWriter: exact size (odd too), exact frame rate, both codecs, colour round trip."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

from latentsync.video import VideoWriter, iter_frames, probe_video
from tests.helpers.golden import assert_uint8_close
from tests.video.clips import numbered_frame


def smooth_frame(index: int, width: int, height: int) -> np.ndarray:
    """No sharp hue edges, so 4:2:0 chroma subsampling costs little and the tolerance can be tight."""
    y, x = np.mgrid[0:height, 0:width]
    r = 30 + x * 180 // max(1, width - 1) + index
    g = 30 + y * 180 // max(1, height - 1)
    b = np.full_like(x, 90 + 10 * index)
    return np.stack([r, g, b], axis=-1).astype(np.uint8)


def _yuv_round_trip(rgb: np.ndarray, pix_fmt: str) -> np.ndarray:
    yuv = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(
        format=pix_fmt, dst_colorspace="ITU709", dst_color_range="MPEG"
    )
    return yuv.to_ndarray(format="rgb24")


def _write(path, frames, fps, **kwargs):
    height, width = frames[0].shape[:2]
    with VideoWriter(path, width, height, fps, **kwargs) as writer:
        for frame in frames:
            writer.write(frame)
    assert writer.frames_written == len(frames)
    return path


@pytest.mark.parametrize("codec", ["libx264", "libx265"])
@pytest.mark.parametrize(("width", "height"), [(64, 48), (81, 57)])
def test_round_trip_keeps_size_rate_and_pixels(tmp_path, codec, width, height):
    frames = [smooth_frame(i, width, height) for i in range(6)]
    path = _write(
        tmp_path / "out.mp4", frames, Fraction(30000, 1001), codec=codec, crf=0 if codec == "libx264" else 4
    )
    info = probe_video(path)
    assert (info.width, info.height, info.num_frames) == (width, height, 6)
    assert info.fps == Fraction(30000, 1001)
    assert info.codec == {"libx264": "h264", "libx265": "hevc"}[codec]
    assert info.pix_fmt == ("yuv420p" if width % 2 == 0 else "yuv444p")
    decoded = list(iter_frames(path))
    assert len(decoded) == 6
    for got, sent in zip(decoded, frames):
        if codec == "libx264":  # crf 0 is lossless: only the RGB <-> YUV conversion remains
            assert np.array_equal(got, _yuv_round_trip(sent, info.pix_fmt))
        # swscale's own 4:2:0 round trip of this picture is 1.63 mean (a slight dark bias), 4:4:4 0.4.
        assert_uint8_close(got, sent, mean_tol=2.0 if info.pix_fmt == "yuv420p" else 0.8, max_tol=8)


def test_ntsc_timestamps_are_exact(tmp_path):
    frames = [numbered_frame(i, 32, 32) for i in range(5)]
    path = _write(tmp_path / "ntsc.mp4", frames, Fraction(30000, 1001))
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        times = [f.time for f in container.decode(stream)]
        assert stream.average_rate == Fraction(30000, 1001)
    assert times == pytest.approx([i * 1001 / 30000 for i in range(5)], abs=1e-9)


def test_float_ntsc_rate_snaps_to_1001(tmp_path):
    path = _write(tmp_path / "f.mp4", [numbered_frame(0, 32, 32)] * 3, 29.97002997)
    assert probe_video(path).fps == Fraction(30000, 1001)


def test_tagged_bt709_so_players_and_reader_agree(tmp_path):
    path = _write(tmp_path / "c.mp4", [numbered_frame(0, 32, 32)], 25)
    with av.open(str(path)) as container:
        ctx = container.streams.video[0].codec_context
        assert (ctx.colorspace, ctx.color_range) == (1, 1)


def test_rejects_wrong_frames(tmp_path):
    with VideoWriter(tmp_path / "x.mp4", 32, 32, 25) as writer:
        with pytest.raises(ValueError, match="32x32x3 uint8"):
            writer.write(np.zeros((32, 31, 3), np.uint8))
        with pytest.raises(ValueError):
            writer.write(np.zeros((32, 32, 3), np.float32))
        writer.write(np.zeros((32, 32, 3), np.uint8))
    with pytest.raises(RuntimeError, match="closed"):
        writer.write(np.zeros((32, 32, 3), np.uint8))
