"""Streaming decode: golden pixels, resume by seeking, orientation, formats, damaged tails."""

from __future__ import annotations

import itertools

import av
import numpy as np
import pytest

from latentsync.errors import InputError
from latentsync.video import iter_frames, probe_video
from tests.helpers.golden import MEDIA, assert_uint8_close, reference
from tests.helpers.media import read_frames
from tests.video.clips import (
    decoded_frames,
    make_clip,
    make_cut_faststart_clip,
    make_vfr_clip,
    numbered_frame,
)


def test_demo_frame_matches_the_original_decode():
    expected = reference("align_restore")["frame0"].numpy()
    frame = next(iter_frames(MEDIA / "demo1_video.mp4"))
    assert frame.shape == (1920, 1080, 3) and frame.dtype == np.uint8
    assert np.abs(frame.astype(int) - expected).max() == 0  # BT.709 limited range, exactly as the original


def test_resume_in_demo_video_equals_sequential_decode():
    sequential = list(itertools.islice(iter_frames(MEDIA / "demo1_video.mp4"), 42))
    resumed = list(itertools.islice(iter_frames(MEDIA / "demo1_video.mp4", start_frame=40), 2))
    assert np.array_equal(resumed[0], sequential[40]) and np.array_equal(resumed[1], sequential[41])


@pytest.mark.parametrize("start", [0, 1, 9, 10, 17, 33, 39])
def test_start_frame_seeks_exactly_with_b_frames_and_gops(tmp_path_factory, start):
    path = tmp_path_factory.getbasetemp() / "gops.mp4"
    if not path.exists():
        make_clip(path, num_frames=40, options={"g": "10", "bf": "3"})
    reference_frames = read_frames(path)
    frames = list(iter_frames(path, start_frame=start))
    assert len(frames) == 40 - start
    assert all(np.array_equal(a, b) for a, b in zip(frames, reference_frames[start:]))


def test_start_frame_past_the_end_yields_nothing(tmp_path):
    path = make_clip(tmp_path / "short.mp4", num_frames=5)
    assert list(iter_frames(path, start_frame=7)) == []


@pytest.mark.parametrize("ccw", [90, 180, 270])
def test_frames_come_out_upright(tmp_path, ccw):
    path = make_clip(tmp_path / "rot.mp4", num_frames=2, width=64, height=32, rotation_ccw=ccw)
    frame = next(iter_frames(path))
    stored = numbered_frame(0, 64, 32)
    # A player turns the stored picture counter-clockwise by `ccw`: so does the reader.
    assert_uint8_close(frame, np.rot90(stored, k=ccw // 90).copy(), mean_tol=3, max_tol=40)
    assert frame.shape == ((64, 32, 3) if ccw in (90, 270) else (32, 64, 3))
    assert frame.flags["C_CONTIGUOUS"]


@pytest.mark.parametrize(
    ("pix_fmt", "mean_tol", "max_tol"), [("yuv444p10le", 0.5, 5), ("yuv420p10le", 2.5, 50)]
)
def test_ten_bit_input_decodes_to_eight_bit_rgb(tmp_path, pix_fmt, mean_tol, max_tol):
    """Lossless 10-bit: only rounding remains at 4:4:4; 4:2:0 adds chroma blur at the hue edge."""
    path = make_clip(tmp_path / "ten.mp4", num_frames=3, pix_fmt=pix_fmt, options={"crf": "0"})
    frames = list(iter_frames(path))
    assert len(frames) == 3 and frames[0].dtype == np.uint8
    assert_uint8_close(frames[2], numbered_frame(2, 64, 48), mean_tol=mean_tol, max_tol=max_tol)


@pytest.mark.parametrize(
    ("name", "codec", "pix_fmt"),
    [("gray.mkv", "ffv1", "gray"), ("alpha.mov", "qtrle", "argb")],
    ids=["gray", "alpha"],
)
def test_gray_and_alpha_inputs_give_three_channels(tmp_path, name, codec, pix_fmt):
    path = make_clip(tmp_path / name, num_frames=2, codec=codec, pix_fmt=pix_fmt)
    frame = next(iter_frames(path))
    assert frame.shape == (48, 64, 3)
    source = numbered_frame(0, 64, 48)
    if pix_fmt == "gray":
        assert np.array_equal(frame[..., 0], frame[..., 1]) and np.array_equal(frame[..., 1], frame[..., 2])
    else:
        assert np.array_equal(frame, source)  # lossless RGB + alpha: exact after dropping alpha


def test_streaming_decodes_only_what_is_taken(tmp_path, monkeypatch):
    """The reader is lazy: taking 2 frames of a 40-frame clip decodes a few frames, not 40."""
    path = make_clip(tmp_path / "lazy.mp4", num_frames=40)
    counter = decoded_frames(monkeypatch)
    frames = iter_frames(path)
    taken = [next(frames), next(frames)]
    assert taken[0].shape == (48, 64, 3)
    frames.close()
    assert 2 <= counter[0] <= 8, f"{counter[0]} frames decoded to hand out 2"


def test_bad_path_fails_when_called_not_when_iterated(tmp_path):
    with pytest.raises(InputError, match="not found"):
        iter_frames(tmp_path / "nope.mp4")


def test_truncated_file_yields_the_frames_before_the_damage(tmp_path, caplog):
    whole, cut = make_cut_faststart_clip(tmp_path, keep=0.7)
    complete = probe_video(cut).num_frames
    caplog.clear()
    frames = list(iter_frames(cut))
    # Frame-threaded decoding loses the few frames in flight when it meets the damaged packet.
    assert complete - 3 <= len(frames) <= complete < 30
    assert all(np.array_equal(a, b) for a, b in zip(frames, read_frames(whole)))
    assert "truncated" in caplog.text  # said when opening: the threaded decoder may not notice


def test_undecodable_video_raises(tmp_path):
    whole = make_clip(tmp_path / "whole.mp4", num_frames=3, container_options={"movflags": "+faststart"})
    data = whole.read_bytes()
    with av.open(str(whole)) as container:
        first_packet_end = min(e.pos for e in container.streams.video[0].index_entries) + 10
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[:first_packet_end])
    with pytest.raises(InputError, match="no decodable frames"):
        probe_video(cut)


VFR_GAPS_MS = [40, 40, 33, 50, 40, 20, 60, 40, 40, 33, 33, 34, 40, 80, 40, 40, 40, 40, 40, 40] * 2


@pytest.mark.parametrize("start", [5, 13, 21, 39])
def test_variable_frame_rate_seek_is_exact(tmp_path, start):
    path = make_vfr_clip(tmp_path / "vfr.mp4", VFR_GAPS_MS)
    frames = list(iter_frames(path, start_frame=start))
    reference_frames = read_frames(path)
    assert len(frames) == 40 - start
    assert all(np.array_equal(a, b) for a, b in zip(frames, reference_frames[start:]))
