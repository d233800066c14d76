"""Odd but valid inputs: each lip-syncs to a correct output (size, rate, length, audio, faces).

Runs in-process through ``run_inference`` with the session's tiny models (the CLI path of the
same function is covered by test_bad_inputs.py and the pipeline's end-to-end tests). Clips are
8 frames of the demo at 288x512 unless the case is about size or rate.
"""

from __future__ import annotations

import logging
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from latentsync.audio.io import load_audio, probe_audio
from latentsync.face.detector import create_detector
from latentsync.pipeline.runner import InferenceSummary, run_inference
from latentsync.video.probe import probe_video
from tests.helpers import media
from tests.pipeline.conftest import tiny_options
from tests.robustness import inputs

FRAMES = 8  # half a model chunk: enough for every check, half the model time
SECONDS = FRAMES / 25


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("matrix")
    frames = inputs.demo(FRAMES)
    return {
        "root": root,
        "clip": inputs.encode_video(root / "clip.mp4", frames),
        "wav": inputs.encode_audio(root / "speech.wav", inputs.speech(SECONDS)),
    }


@pytest.fixture
def lipsync(tmp_path, tiny_models, tiny_inference_models):
    def run(
        video: Path, audio: Path, name: str = "out.mp4", output: Path | None = None, **kw
    ) -> tuple[InferenceSummary, Path]:
        out = output or tmp_path / name
        summary = run_inference(tiny_options(tiny_models, video, audio, out, **kw), tiny_inference_models)
        assert out.is_file()
        return summary, out

    return run


def assert_format(
    out: Path,
    size: tuple[int, int],
    fps: Fraction | int,
    frames: int,
    audio_seconds: float,
    sample_rate: int = 16000,
    channels: int = 1,
) -> None:
    video = probe_video(out)
    assert (video.width, video.height, video.rotation) == (*size, 0)
    assert video.fps == fps
    assert video.num_frames == frames
    audio = probe_audio(out)
    assert (audio.sample_rate, audio.channels) == (sample_rate, channels)
    assert abs(audio.duration - audio_seconds) <= 1 / float(fps) + 0.03, audio.duration


def region_psnr(before: list[np.ndarray], after: list[np.ndarray], rows: slice, cols: slice) -> float:
    return min(media.psnr(b[rows, cols], a[rows, cols]) for b, a in zip(before, after))


# --- driving audio: duration, rate, layout, codec ----------------------------------------------


def test_audio_of_0_2_seconds_gives_5_frames(lipsync, base):
    audio = inputs.encode_audio(base["root"] / "short.wav", inputs.speech(0.2))
    summary, out = lipsync(base["clip"], audio)
    assert (summary.frames, summary.frames_with_face) == (5, 5)
    assert_format(out, (288, 512), 25, 5, 0.2)


AUDIO_SECONDS = 0.2  # short: these cases are about decoding and muxing, not about the model

AUDIO_CASES = {
    # name: (file, sample rate, layout, codec)
    "8khz_wav": ("a8k.wav", 8000, "mono", "pcm_s16le"),
    "44.1khz_wav": ("a44.wav", 44100, "mono", "pcm_s16le"),
    "48khz_stereo_wav": ("a48.wav", 48000, "stereo", "pcm_s16le"),
    "96khz_wav": ("a96.wav", 96000, "mono", "pcm_s16le"),
    "5.1_m4a": ("a51.m4a", 48000, "5.1", "aac"),
    "mp3_stereo": ("a.mp3", 44100, "stereo", "libmp3lame"),
    "m4a_stereo": ("a.m4a", 44100, "stereo", "aac"),
    "flac": ("a.flac", 48000, "mono", "flac"),
    "ogg_opus": ("a.ogg", 48000, "stereo", "libopus"),
}


@pytest.mark.parametrize("case", list(AUDIO_CASES))
def test_driving_audio_formats(lipsync, base, case):
    """Any rate/layout/codec drives ceil(decoded seconds x fps) frames; the output keeps rate and channels.

    Lossy codecs decode a little longer than written (AAC keeps its encoder's end padding, ~10-20
    ms), so the frame count follows the decoded length, which stays within one frame of 0.2 s.
    """
    name, rate, layout, codec = AUDIO_CASES[case]
    audio = inputs.encode_audio(base["root"] / name, inputs.speech(AUDIO_SECONDS), rate, layout, codec)
    decoded_seconds = len(load_audio(audio)) / 16000
    frames = math.ceil(decoded_seconds * 25 - 1e-9)
    assert frames in (5, 6), decoded_seconds
    summary, out = lipsync(base["clip"], audio)
    assert summary.frames == frames and summary.frames_with_face == frames
    channels = media.CHANNELS[layout]
    assert_format(out, (288, 512), 25, frames, AUDIO_SECONDS, rate, channels)


def test_silent_audio(lipsync, base):
    audio = inputs.encode_audio(base["root"] / "silence.wav", np.zeros(int(SECONDS * 16000), np.float32))
    summary, out = lipsync(base["clip"], audio)
    assert summary.frames == FRAMES
    assert_format(out, (288, 512), 25, FRAMES, SECONDS)


def test_audio_with_leading_silence_loops_video(lipsync, base):
    samples = np.concatenate([np.zeros(6400, np.float32), inputs.speech(SECONDS)])
    audio = inputs.encode_audio(base["root"] / "lead.wav", samples)
    summary, out = lipsync(base["clip"], audio)
    assert summary.frames == 18  # 0.72 s: the 8-frame clip ping-pongs
    assert_format(out, (288, 512), 25, 18, 0.72)


# --- video containers, pixel formats, sizes, rates ----------------------------------------------


def test_one_frame_video_repeats_that_frame(lipsync, base):
    clip = inputs.encode_video(base["root"] / "one.mp4", inputs.demo(1))
    summary, out = lipsync(clip, base["wav"])
    assert (summary.frames, summary.frames_with_face) == (FRAMES, FRAMES)
    assert_format(out, (288, 512), 25, FRAMES, SECONDS)
    frames, source = media.read_frames(out), media.read_frames(clip)[0]
    assert region_psnr([source] * FRAMES, frames, slice(0, 90), slice(None)) >= 35


def test_variable_frame_rate_phone_clip(lipsync, base):
    gaps = [33, 34, 50, 17, 33, 66, 33, 34]
    pts = np.concatenate([[0], np.cumsum(gaps[:-1])]).tolist()
    clip = inputs.encode_video(base["root"] / "vfr.mp4", inputs.demo(FRAMES), fps=30, pts_ms=pts)
    rate = probe_video(clip).fps
    expected = int(np.ceil(SECONDS * float(rate) - 1e-9))
    summary, out = lipsync(clip, base["wav"])
    assert summary.frames == expected and summary.frames_with_face == expected
    assert rate != 25 and rate != 30  # the average rate of the timestamps
    assert_format(out, (288, 512), rate, expected, SECONDS)


@pytest.mark.parametrize("ccw", [90, 180, 270])
def test_rotation_metadata_is_applied(lipsync, base, ccw):
    """Stored sideways/upside down with a display matrix: processed and written upright."""
    upright = inputs.demo(FRAMES)
    stored = [np.ascontiguousarray(np.rot90(f, k=-ccw // 90)) for f in upright]
    clip = inputs.encode_video(base["root"] / f"rot{ccw}.mp4", stored, rotation_ccw=ccw)
    summary, out = lipsync(clip, base["wav"])
    assert summary.frames_with_face == FRAMES  # faces are found only in upright frames
    assert_format(out, (288, 512), 25, FRAMES, SECONDS)
    assert region_psnr(upright, media.read_frames(out), slice(0, 90), slice(None)) >= 30


@pytest.mark.parametrize("size", [(271, 481)])
def test_odd_width_and_height(lipsync, base, size):
    clip = inputs.encode_video(base["root"] / "odd.mp4", inputs.demo(FRAMES, size=size), pix_fmt="yuv444p")
    summary, out = lipsync(clip, base["wav"])
    assert summary.frames_with_face == FRAMES
    assert_format(out, size, 25, FRAMES, SECONDS)


@pytest.mark.parametrize(
    ("name", "size", "pix_fmt"),
    [("odd_full_hd_1081x1917", (1081, 1917), "yuv444p"), ("4k_portrait", (2160, 3840), "yuv420p")],
)
def test_large_portrait_frames(lipsync, base, name, size, pix_fmt):
    frames = 10
    clip = inputs.encode_video(base["root"] / f"{name}.mp4", inputs.demo(frames, size=size), pix_fmt=pix_fmt)
    audio = inputs.encode_audio(base["root"] / "a04.wav", inputs.speech(0.4))
    summary, out = lipsync(clip, audio)
    assert summary.frames_with_face == frames
    assert_format(out, size, 25, frames, 0.4)


def test_60fps_output_keeps_60fps(lipsync, base):
    frames = 16
    clip = inputs.encode_video(base["root"] / "60.mp4", inputs.demo(frames), fps=60)
    audio = inputs.encode_audio(base["root"] / "a60.wav", inputs.speech(frames / 60))
    summary, out = lipsync(clip, audio)
    assert summary.frames == frames and summary.frames_with_face == frames
    assert_format(out, (288, 512), 60, frames, frames / 60)


def test_10_bit_yuv420p10(lipsync, base):
    clip = inputs.encode_video(base["root"] / "10bit.mp4", inputs.demo(FRAMES), pix_fmt="yuv420p10le")
    assert probe_video(clip).bit_depth == 10
    summary, out = lipsync(clip, base["wav"])
    assert summary.frames_with_face == FRAMES
    assert_format(out, (288, 512), 25, FRAMES, SECONDS)
    assert probe_video(out).bit_depth == 8


def test_alpha_png_in_mov(lipsync, base):
    """RGBA (png-in-mov, like screen recordings and editors' exports): alpha is dropped."""
    rgb = inputs.demo(FRAMES)
    rgba = [np.dstack([f, np.full(f.shape[:2], 255, np.uint8)]) for f in rgb]
    clip = inputs.encode_video(
        base["root"] / "alpha.mov", rgba, codec="png", pix_fmt="rgba", input_format="rgba"
    )
    assert probe_video(clip).pix_fmt == "rgba"
    summary, out = lipsync(clip, base["wav"])
    assert summary.frames_with_face == FRAMES
    assert_format(out, (288, 512), 25, FRAMES, SECONDS)
    assert region_psnr(rgb, media.read_frames(out), slice(0, 90), slice(None)) >= 35


def test_grayscale_video(lipsync, base):
    """Gray decodes to neutral RGB; the face is found (box, then mesh on its region) and lip-synced,
    and the generated mouth goes back in gray."""
    clip = inputs.encode_video(base["root"] / "gray.mp4", inputs.demo(FRAMES), pix_fmt="gray")
    summary, out = lipsync(clip, base["wav"])
    assert_format(out, (288, 512), 25, FRAMES, SECONDS)
    assert summary.frames_with_face >= FRAMES * 3 // 4
    before, after = media.read_frames(clip), media.read_frames(out)
    spread = max(np.abs(a.astype(int) - a.mean(axis=2, keepdims=True)).max() for a in after)
    assert spread <= 3  # still gray
    assert region_psnr(before, after, slice(None), slice(None)) < 45  # the mouth was changed


def test_truncated_faststart_mp4_uses_complete_frames(lipsync, base, caplog):
    clip = inputs.encode_video(
        base["root"] / "faststart.mp4",
        inputs.demo(FRAMES),
        options={"g": "4"},
        container_options={"movflags": "faststart"},
    )
    cut = inputs.truncated_copy(clip, base["root"] / "faststart cut.mp4", keep=0.6)
    with caplog.at_level(logging.WARNING):
        summary, out = lipsync(cut, base["wav"])
    assert "truncated" in caplog.text
    assert summary.frames == FRAMES  # the complete frames ping-pong to the audio's length
    assert_format(out, (288, 512), 25, FRAMES, SECONDS)


# --- faces -----------------------------------------------------------------------------------


def test_face_leaves_the_frame_and_returns(lipsync, base):
    frames = inputs.demo(FRAMES)
    gone = range(3, 6)
    moved = [inputs.shifted(f, 400) if i in gone else f for i, f in enumerate(frames)]
    clip = inputs.encode_video(base["root"] / "leaves.mp4", moved)
    # 3 + 2 face frames around the gap: shorter than the anti-flicker guard's default, so it is off here
    summary, out = lipsync(clip, base["wav"], min_face_frames=1)
    assert summary.frames_with_face == FRAMES - len(gone)
    before, after = media.read_frames(clip), media.read_frames(out)
    for i in gone:
        assert media.psnr(before[i], after[i]) >= 40, i
    assert media.psnr(before[1], after[1]) < 40 and media.psnr(before[7], after[7]) < 40


def test_two_faces_largest_is_synced_face_index_picks_other(lipsync, base, tiny_models):
    clip = inputs.encode_video(base["root"] / "two.mp4", inputs.two_faces(inputs.demo(FRAMES)))
    before = media.read_frames(clip)
    faces = sorted(create_detector("mediapipe").detect(before[0]), key=lambda f: f.centre[0])
    assert len(faces) == 2  # precondition: the detector sees both people
    largest = max(range(2), key=lambda i: faces[i].area)
    halves = [slice(0, inputs.TWO_FACES_SPLIT), slice(inputs.TWO_FACES_SPLIT, None)]

    for face_index, synced in ((None, largest), (1 - largest, 1 - largest)):
        summary, out = lipsync(clip, base["wav"], name=f"face{face_index}.mp4", face_index=face_index)
        assert summary.frames_with_face >= FRAMES * 3 // 4  # MediaPipe drops a face in a few frames
        after = media.read_frames(out)
        kept = region_psnr(before, after, slice(None), halves[1 - synced])
        redrawn = region_psnr(before, after, slice(None), halves[synced])
        assert kept >= 36 and redrawn < kept - 4, (face_index, kept, redrawn)


def test_brief_face_is_left_alone_and_counted(lipsync, base):
    """The same clip with the guard on: two face runs of 3 and 2 frames are not lip-synced."""
    frames = inputs.demo(FRAMES)
    moved = [inputs.shifted(f, 400) if i in range(3, 6) else f for i, f in enumerate(frames)]
    clip = inputs.encode_video(base["root"] / "brief.mp4", moved)
    summary, out = lipsync(clip, base["wav"], name="brief.mp4")
    assert summary.frames_with_face == 0
    assert summary.passed["face in fewer than 5 frames in a row"] == 5
    assert "5 face in fewer than 5 frames in a row" in summary.line()
    _, synced = lipsync(clip, base["wav"], name="synced.mp4", min_face_frames=1)
    before, guarded, unguarded = (media.read_frames(p) for p in (clip, out, synced))
    # face frames away from the fades: redrawn without the guard (33-36 dB), left alone with it (~39)
    for i in (0, 1, 7):
        assert media.psnr(before[i], guarded[i]) > media.psnr(before[i], unguarded[i]) + 2, i


def test_face_too_small_to_align_passes_through(lipsync, base):
    clip = inputs.encode_video(base["root"] / "tiny face.mp4", inputs.tiny_face(inputs.demo(FRAMES)))
    summary, out = lipsync(clip, base["wav"])
    assert summary.frames_with_face == 0
    assert_format(out, (288, 512), 25, FRAMES, SECONDS)
    assert region_psnr(media.read_frames(clip), media.read_frames(out), slice(None), slice(None)) >= 40


def test_face_at_the_frame_edge(lipsync, base):
    """Half the face outside the left edge: the crop reaches outside the frame; paste-back clips it."""
    frames = [inputs.shifted(f, -100) for f in inputs.demo(FRAMES)]
    clip = inputs.encode_video(base["root"] / "edge.mp4", frames)
    summary, out = lipsync(clip, base["wav"])
    assert summary.frames_with_face == FRAMES
    assert_format(out, (288, 512), 25, FRAMES, SECONDS)
    before, after = media.read_frames(clip), media.read_frames(out)
    assert region_psnr(before, after, slice(0, 90), slice(None)) >= 35
    assert region_psnr(before, after, slice(90, None), slice(0, 144)) < 36  # the mouth was redrawn


# --- paths -----------------------------------------------------------------------------------


def test_paths_with_spaces_quotes_substitutions_and_unicode(lipsync, base, tmp_path):
    weird = tmp_path / "dir with spaces 'single' \"double\" $(touch pwned) `x` ünïcødé 日本語"
    weird.mkdir()
    video = weird / "vidéo $(id) 'q'.mp4"
    video.write_bytes(base["clip"].read_bytes())
    audio = weird / '音声 "a".wav'
    audio.write_bytes(base["wav"].read_bytes())
    out = weird / "résultat $(rm -rf x) `y`.mp4"
    summary, _ = lipsync(video, audio, output=out)
    assert summary.frames == FRAMES
    assert_format(out, (288, 512), 25, FRAMES, SECONDS)
    assert not list(tmp_path.rglob("pwned")) and not Path("pwned").exists()
