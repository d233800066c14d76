"""``latentsync infer`` end to end on real talking-head frames with the tiny deterministic models."""

from __future__ import annotations

import numpy as np

from latentsync.audio.io import probe_audio
from latentsync.face.detector import create_detector
from latentsync.pipeline.runner import run_inference
from latentsync.video.probe import probe_video
from tests.helpers import media
from tests.pipeline.conftest import tiny_options


def test_output_keeps_format_background_and_changes_mouth(
    tmp_path, tiny_models, tiny_inference_models, media_dir_small
):
    audio = media.write_audio(
        tmp_path / "speech 44k stereo.wav",
        media.resampled(media.demo_audio(1.6, start=2.0), 44100),
        44100,
        layout="stereo",
    )
    out = tmp_path / "out.mp4"
    summary = run_inference(
        tiny_options(tiny_models, media_dir_small / "clip.mp4", audio, out), tiny_inference_models
    )
    assert summary.frames == 40 and summary.frames_with_face == 40

    info = probe_video(out)
    src = probe_video(media_dir_small / "clip.mp4")
    assert (info.width, info.height) == (src.width, src.height)
    assert info.fps == src.fps
    a = probe_audio(out)
    assert (a.sample_rate, a.channels) == (44100, 2)
    assert abs(a.duration - 1.6) <= 1 / 25 + 0.03

    before, after = media.read_frames(media_dir_small / "clip.mp4"), media.read_frames(out)
    assert len(after) == 40
    height = before[0].shape[0]
    top, bottom = slice(0, int(height * 0.18)), slice(int(height * 0.85), height)
    for b, o in zip(before, after):
        assert media.psnr(b[top], o[top]) >= 35
        assert media.psnr(b[bottom], o[bottom]) >= 35
    face = create_detector("mediapipe").detect(before[0])[0]
    nose_y = int(face.landmarks3[2][1])
    mouth = (slice(nose_y, int(face.y2)), slice(int(face.x1), int(face.x2)))
    change = np.mean(
        [np.abs(b[mouth].astype(float) - o[mouth].astype(float)).mean() for b, o in zip(before, after)]
    )
    assert change > 5, f"mouth region barely changed: mean abs diff {change:.2f}"


def test_same_seed_same_frames_other_seed_differs(
    tmp_path, tiny_models, tiny_inference_models, media_dir_small, clip_700
):
    """At 700x700 (not a multiple of 16) with three segments, the last one partial."""
    runs = {}
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        out = tmp_path / f"{name}.mp4"
        run_inference(
            tiny_options(
                tiny_models, clip_700, media_dir_small / "speech.wav", out, seed=seed, segment_chunks=1
            ),
            tiny_inference_models,
        )
        runs[name] = media.read_frames(out)
    assert len(runs["a"]) == len(runs["b"]) == 40 and runs["a"][0].shape == (700, 700, 3)
    assert all(np.array_equal(x, y) for x, y in zip(runs["a"], runs["b"]))
    assert any(not np.array_equal(x, y) for x, y in zip(runs["a"], runs["c"]))


def test_no_face_frames_pass_through(tmp_path, tiny_models, tiny_inference_models):
    frames = media.demo_frames(40)
    for i in range(14, 26):  # a cutaway: no face
        frames[i] = np.full_like(frames[i], 90)
    clip = media.write_video(tmp_path / "cutaway.mp4", frames)
    audio = media.write_audio(tmp_path / "a.wav", media.demo_audio(1.6, start=2.0))
    out = tmp_path / "out.mp4"
    summary = run_inference(tiny_options(tiny_models, clip, audio, out), tiny_inference_models)
    assert summary.frames_with_face == 28
    before, after = media.read_frames(clip), media.read_frames(out)
    for i in range(14, 26):
        assert media.psnr(before[i], after[i]) >= 40, i
    assert media.psnr(before[8], after[8]) < media.psnr(before[14], after[14])


def test_audio_three_times_longer_loops_video(tmp_path, tiny_models, tiny_inference_models):
    clip = media.write_video(tmp_path / "short.mp4", media.demo_frames(15))
    audio = media.write_audio(tmp_path / "long.wav", media.demo_audio(1.8, start=1.0))
    out = tmp_path / "out.mp4"
    summary = run_inference(tiny_options(tiny_models, clip, audio, out), tiny_inference_models)
    assert summary.frames == 45
    assert probe_video(out).num_frames == 45
    assert abs(probe_audio(out).duration - 1.8) < 0.05


def test_keep_video_length_passes_rest_through(tmp_path, tiny_models, tiny_inference_models, media_dir_small):
    audio = media.write_audio(tmp_path / "short.wav", media.demo_audio(0.8, start=2.0))
    out = tmp_path / "out.mp4"
    summary = run_inference(
        tiny_options(tiny_models, media_dir_small / "clip.mp4", audio, out, keep_video_length=True),
        tiny_inference_models,
    )
    assert summary.frames == 40
    before, after = media.read_frames(media_dir_small / "clip.mp4"), media.read_frames(out)
    assert len(after) == 40
    kept = [media.psnr(before[i], after[i]) for i in range(22, 40)]
    synced = [media.psnr(before[i], after[i]) for i in range(0, 18)]
    assert min(kept) >= 35 and min(kept) > max(synced), (kept, synced)
    assert probe_audio(out).duration < 0.9


def test_deepcache_runs_leave_shared_models_clean(
    tmp_path, tiny_models, tiny_inference_models, media_dir_small, clip_700
):
    """The app and batch reuse loaded models: a DeepCache run must not stay attached to the UNet."""
    clip, audio = media_dir_small / "clip.mp4", media_dir_small / "speech.wav"
    for name in ("a", "b"):
        run_inference(
            tiny_options(tiny_models, clip, audio, tmp_path / f"{name}.mp4", deepcache=True, steps=2),
            tiny_inference_models,
        )
        assert tiny_inference_models.unet.deep_cache is None
    plain, again = tmp_path / "plain.mp4", tmp_path / "again.mp4"
    for out in (plain, again):  # 700x700: not a multiple of 16
        run_inference(tiny_options(tiny_models, clip_700, audio, out, steps=2), tiny_inference_models)
    plain_frames, again_frames = media.read_frames(plain), media.read_frames(again)
    assert len(plain_frames) == len(again_frames) == 40 and plain_frames[0].shape == (700, 700, 3)
    assert all(np.array_equal(x, y) for x, y in zip(plain_frames, again_frames))
