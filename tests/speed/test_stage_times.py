"""The optional per-stage timers: every stage of a real (tiny-model) run is charged, per frame."""

from __future__ import annotations

import time

from latentsync.pipeline.runner import run_inference
from latentsync.pipeline.timing import NO_TIMES, STAGES, StageTimes
from tests.helpers import media
from tests.pipeline.conftest import tiny_options


def test_measure_and_timed_iter_accumulate():
    times = StageTimes()
    with times.measure("unet", 16):
        time.sleep(0.02)
    with times.measure("unet", 16):
        pass
    assert list(times.timed_iter("decode", iter([1, 2, 3]))) == [1, 2, 3]
    assert times.totals["unet"].calls == 2 and times.totals["unet"].frames == 32
    assert times.seconds("unet") >= 0.02
    assert times.totals["decode"].frames == 3
    assert times.model_seconds() == times.seconds("unet")
    assert "unet" in times.table(32)


def test_no_times_records_nothing():
    with NO_TIMES.measure("unet", 1):
        pass
    NO_TIMES.add("decode", 1.0, 1)
    assert NO_TIMES.totals == {}


def test_every_stage_of_a_run_is_timed(tiny_models, tmp_path):
    video = media.write_video(tmp_path / "clip.mp4", media.demo_frames(16))
    audio = media.write_audio(tmp_path / "speech.wav", media.demo_audio(0.64, start=2.0))
    times = StageTimes()
    summary = run_inference(tiny_options(tiny_models, video, audio, tmp_path / "out.mp4"), timings=times)
    assert summary.frames == 16 and summary.frames_with_face == 16
    assert set(times.totals) == set(STAGES)
    for stage in ("decode", "detect", "align", "paste", "encode", "audio", "vae_encode", "vae_decode"):
        assert times.totals[stage].frames == 16, stage
    assert times.totals["unet"].calls == 1 and times.totals["unet"].frames == 16  # 1 step, CFG batched
    assert 0 < times.model_seconds() < times.wall_seconds == summary.seconds
