"""Same frames, same settings, same decoded pictures: at non-mod-16 sizes, over several segments.

The sizes are chosen so libx264's picture is not a multiple of 8 macroblocks wide (700 px = 44 MBs,
1081 px = 68 MBs): on an AVX-512 CPU that is where its MB-tree kernel read memory past its
arrays, and repeated encodes in one process differed (see ``latentsync.video.encoder_options``).
"""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

from latentsync.video import VideoWriter, encoder_options, iter_frames
from latentsync.video.encoder_options import asm_without_avx512, deterministic_options, merge_options
from tests.video.clips import moving_texture

SEGMENTS = (6, 6, 3)  # like the pipeline's segments: one writer each, the last one partial


def _encode_segments(folder, frames, codec) -> list[np.ndarray]:
    """Write ``frames`` as consecutive segment files and decode them all back."""
    height, width = frames[0].shape[:2]
    decoded, start = [], 0
    for index, length in enumerate(SEGMENTS):
        path = folder / f"seg_{index}.mp4"
        with VideoWriter(path, width, height, Fraction(25), codec=codec) as writer:
            for frame in frames[start : start + length]:
                writer.write(frame)
        start += length
        decoded += list(iter_frames(path))
    return decoded


@pytest.mark.parametrize(
    ("codec", "width", "height"),
    [("libx264", 700, 700), ("libx264", 1081, 1917), ("libx265", 700, 700)],
)
def test_five_encodes_of_the_same_frames_decode_identically(tmp_path, codec, width, height):
    frames = moving_texture(sum(SEGMENTS), width, height)
    runs = []
    for run in range(5):
        folder = tmp_path / f"run{run}"
        folder.mkdir()
        runs.append(_encode_segments(folder, frames, codec))
    first = runs[0]
    assert len(first) == len(frames) and first[0].shape == (height, width, 3)
    for run, decoded in enumerate(runs[1:], start=1):
        differing = [i for i, (a, b) in enumerate(zip(first, decoded)) if not np.array_equal(a, b)]
        assert len(decoded) == len(first) and not differing, f"run {run} differs at frames {differing}"


def _encode_raw(path, frames, fill_padding) -> list[np.ndarray]:
    """Encode with the writer's options, but with chosen bytes in each plane's line padding."""
    height, width = frames[0].shape[:2]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = merge_options({"crf": "18"}, deterministic_options("libx264"))
        for index, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
            for plane in frame.planes:
                rows = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
                fill_padding(rows[:, plane.width :], rows[:, plane.width - 1 : plane.width])
            frame.pts = index
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return list(iter_frames(path))


def test_line_padding_of_frames_does_not_reach_the_output(tmp_path):
    """Random bytes vs edge copies past the visible width (700 -> lines of 704): same pictures."""
    frames = moving_texture(10, 700, 700)
    rng = np.random.default_rng(0)

    def random_bytes(pad, edge):
        pad[:] = rng.integers(0, 256, pad.shape, dtype=np.uint8)

    def edge_copies(pad, edge):
        pad[:] = edge

    noisy = _encode_raw(tmp_path / "noisy.mp4", frames, random_bytes)
    clean = _encode_raw(tmp_path / "clean.mp4", frames, edge_copies)
    assert len(noisy) == len(clean) == 10
    assert all(np.array_equal(a, b) for a, b in zip(noisy, clean))


def test_x264_capabilities_are_read_from_its_own_log():
    names = encoder_options.x264_cpu_names()
    assert names, "libx264 no longer logs 'using cpu capabilities:'; the AVX-512 opt-out is off"
    assert encoder_options.x264_cpu_names() is names  # probed once per process


def test_avx512_is_dropped_and_nothing_else(monkeypatch):
    detected = ("MMX2", "SSE2Fast", "SSSE3", "SSE4.2", "AVX", "FMA3", "BMI2", "AVX2", "AVX512")
    assert asm_without_avx512(detected) == "MMX2,SSE2Fast,SSSE3,SSE4.2,AVX,FMA3,BMI2,AVX2"
    assert asm_without_avx512(detected[:-1]) is None  # nothing to change on an AVX2 CPU
    monkeypatch.setattr(encoder_options, "_x264_names", detected)
    assert deterministic_options("libx264") == {
        "x264-params": "asm=MMX2,SSE2Fast,SSSE3,SSE4.2,AVX,FMA3,BMI2,AVX2"
    }
    assert deterministic_options("libx265") == {}


def test_param_lists_are_joined_and_later_values_win():
    merged = merge_options(
        {"crf": "18", "x264-params": "log-level=error"},
        {"x264-params": "asm=AVX2"},
        None,
        {"crf": "20", "x264-params": "asm=SSE2"},
    )
    assert merged == {"crf": "20", "x264-params": "log-level=error:asm=AVX2:asm=SSE2"}
