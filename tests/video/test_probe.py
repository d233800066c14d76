"""probe_video numbers, rotation, bit depth, frame rates and every kind of unusable input."""

from __future__ import annotations

from fractions import Fraction

import pytest

from latentsync.errors import InputError
from latentsync.video import probe_video
from tests.helpers.golden import MEDIA
from tests.video.clips import make_clip, make_cut_faststart_clip, make_vfr_clip


def test_probe_demo_video():
    info = probe_video(MEDIA / "demo1_video.mp4")
    assert (info.width, info.height) == (1080, 1920)
    assert info.fps == Fraction(25)
    assert info.num_frames == 250
    assert info.duration == pytest.approx(10.0)
    assert info.rotation == 0
    assert (info.pix_fmt, info.bit_depth, info.codec) == ("yuv420p", 8, "hevc")
    assert info.has_audio and not info.truncated


@pytest.mark.parametrize(("ccw", "clockwise"), [(90, 270), (180, 180), (270, 90)])
def test_rotation_from_display_matrix(tmp_path, ccw, clockwise):
    path = make_clip(tmp_path / "rot.mp4", num_frames=3, width=64, height=32, rotation_ccw=ccw)
    info = probe_video(path)
    assert info.rotation == clockwise
    assert (info.width, info.height) == ((32, 64) if ccw in (90, 270) else (64, 32))


def test_ntsc_rate_and_ten_bit(tmp_path):
    path = make_clip(tmp_path / "ntsc10.mp4", num_frames=6, fps=Fraction(30000, 1001), pix_fmt="yuv420p10le")
    info = probe_video(path)
    assert info.fps == Fraction(30000, 1001)
    assert (info.pix_fmt, info.bit_depth, info.num_frames) == ("yuv420p10le", 10, 6)
    assert info.duration == pytest.approx(6 * 1001 / 30000)
    assert not info.has_audio


def test_frame_count_estimated_without_index(tmp_path):
    path = make_clip(tmp_path / "clip.mkv", num_frames=12, fps=25)
    info = probe_video(path)
    assert info.num_frames == 12
    assert info.duration == pytest.approx(12 / 25)


def _text_mp4(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("this is not a video\n" * 20)
    return path


def _empty(tmp_path):
    path = tmp_path / "empty.mp4"
    path.touch()
    return path


def _audio_only(tmp_path):
    from tests.video.clips import make_wav

    path = tmp_path / "speech.wav"
    make_wav(path, 16000, 1, 0.2)
    return path


def _cut_without_index(tmp_path):
    whole = make_clip(tmp_path / "whole.mp4", num_frames=20)
    cut = tmp_path / "cut.mp4"
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) // 2])  # the index (moov) is at the end: nothing usable is left
    return cut


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: tmp / "missing.mp4", "video file not found"),
        (lambda tmp: tmp, "is a directory"),
        (_empty, r"empty \(0 bytes\)"),
        (_text_mp4, "not a readable media file"),
        (_audio_only, "has no video stream"),
        (_cut_without_index, "not a readable media file"),
    ],
    ids=["missing", "directory", "empty", "text", "audio-only", "truncated-no-index"],
)
def test_bad_inputs_raise_one_clear_input_error(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(InputError, match=message) as info:
        probe_video(path)
    assert "\n" not in str(info.value)
    assert str(path) in str(info.value)


def test_truncated_file_with_index_first_is_usable(tmp_path):
    _, cut = make_cut_faststart_clip(tmp_path, keep=0.5)
    info = probe_video(cut)
    assert info.truncated
    assert 4 <= info.num_frames < 30
    assert info.duration == pytest.approx(info.num_frames / 25)


def test_variable_frame_rate_reports_the_average(tmp_path):
    gaps = [40, 40, 33, 50, 40, 20, 60, 40, 40, 33, 33, 34, 40, 80, 40, 40, 40, 40, 40, 40] * 2
    info = probe_video(make_vfr_clip(tmp_path / "vfr.mp4", gaps))
    assert info.num_frames == 40
    assert info.duration == pytest.approx(sum(gaps) / 1000, abs=0.001)
    assert float(info.fps) == pytest.approx(40 / (sum(gaps) / 1000), rel=1e-6)
