"""``--fps``: the UNet on its 25 fps timeline while the output keeps the source rate (retime.py)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from latentsync.pipeline.faces import FrameItem
from latentsync.pipeline.journal import work_dir_for
from latentsync.pipeline.retime import Retimer, model_frame_of
from latentsync.pipeline.runner import run_inference
from latentsync.pipeline.timing import StageTimes
from latentsync.video.probe import probe_video
from tests.helpers import media
from tests.pipeline.conftest import tiny_options


def _outputs(n: int, segment: int = 1000) -> list[FrameItem]:
    items = []
    for i in range(n):
        item = FrameItem(
            index=i, frame=np.zeros((1, 1, 3), np.uint8), face=np.full((1,), i), affine=np.eye(2, 3)
        )
        item.state = {"at": i} if i % segment == 0 else None
        items.append(item)
    return items


def _plan(fps: int, n: int, segment: int = 1000) -> list[tuple[int, int, list[int]]]:
    """(model index, index of the output frame it was made from, output frames showing it)."""
    retimer = Retimer(Fraction(fps), Fraction(25), segment, model_audio_frames=10_000)
    return [
        (m.index, int(m.face[0]), [o.index for o in m.extra["outputs"]])
        for m in retimer.model_items(_outputs(n, segment))
    ]


def test_60fps_output_frames_show_the_model_frame_of_their_time():
    plan = _plan(60, 24)
    assert [k for k, _, _ in plan] == list(range(10))  # 24 frames at 60 fps = 0.4 s = 10 model frames
    for k, source, shown in plan:
        assert source == shown[0]  # generated from the first output frame of its period
        assert all(k / 25 <= j / 60 < (k + 1) / 25 for j in shown)
    assert sorted(j for _, _, shown in plan for j in shown) == list(range(24))
    assert {len(shown) for _, _, shown in plan} == {2, 3}


def test_slower_output_repeats_the_source_frame_and_skips_model_frames():
    plan = _plan(10, 5)
    assert [k for k, _, _ in plan] == list(range(11))  # model frames 0..10 stay consecutive for the UNet
    shown = {k: s for k, _, s in plan}
    assert [shown[k] for k in (0, 2, 5, 7, 10)] == [[0], [1], [2], [3], [4]]
    assert shown[1] == [] and shown[3] == []
    sources = [src for _, src, _ in plan]
    assert sources == sorted(sources) and sources[1] == 0  # skipped frames reuse the latest earlier input


def test_segments_are_self_contained():
    plan = _plan(60, 40, segment=16)
    by_segment: dict[int, list[int]] = {}
    for k, source, shown in plan:
        segment = source // 16
        assert all(j // 16 == segment for j in shown)
        by_segment.setdefault(segment, []).append(k)
    # frames 15 and 16 (t = 0.25, 0.267 s) share model period 6: it is generated in both segments
    assert by_segment[0][-1] == 6 and by_segment[1][0] == 6
    assert (
        model_frame_of(15, Fraction(60), Fraction(25)) == model_frame_of(16, Fraction(60), Fraction(25)) == 6
    )


@pytest.fixture(scope="module")
def clip_50fps(tmp_path_factory):
    """16 frames of the test clip at 300x532 (not a multiple of 16), each shown twice, at 50 fps
    (0.64 s), and 0.64 s of speech."""
    folder = tmp_path_factory.mktemp("fps50")
    frames = media.demo_frames(16, (300, 532))
    clip = media.write_video(folder / "clip50.mp4", [f for frame in frames for f in (frame, frame)], fps=50)
    return clip, media.write_audio(folder / "speech.wav", media.demo_audio(0.64, start=2.0))


def test_50fps_source_keeps_its_rate_while_the_unet_runs_at_25fps(
    tmp_path, tiny_models, tiny_inference_models, clip_50fps
):
    clip, audio = clip_50fps
    runs = {}
    for name, model_fps in (("model", 25.0), ("source", None)):
        times = StageTimes()
        out = tmp_path / f"{name}.mp4"
        summary = run_inference(
            tiny_options(tiny_models, clip, audio, out, model_fps=model_fps),
            tiny_inference_models,
            timings=times,
        )
        runs[name] = (summary, times.totals["unet"].frames, times.totals["paste"].frames, probe_video(out))
    summary, unet_frames, pasted, info = runs["model"]
    assert summary.frames == 32 and info.fps == 50 and info.num_frames == 32
    assert unet_frames == 16 and pasted == 32  # 16 model frames at 25 fps, shown on all 32 output frames
    summary, unet_frames, pasted, info = runs["source"]
    assert summary.frames == 32 and info.fps == 50
    assert unet_frames == 32 and pasted == 32


def test_retimed_run_resumes_with_the_same_frames(tmp_path, tiny_models, tiny_inference_models, clip_50fps):
    clip, audio = clip_50fps
    whole = tmp_path / "whole.mp4"
    run_inference(tiny_options(tiny_models, clip, audio, whole, segment_chunks=1), tiny_inference_models)

    out = tmp_path / "resumed.mp4"

    def crash_in_second_segment(done: int, total: int) -> None:
        if done == 20:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_inference(
            tiny_options(tiny_models, clip, audio, out, segment_chunks=1),
            tiny_inference_models,
            progress=crash_in_second_segment,
        )
    assert not out.exists() and (work_dir_for(out) / "journal.json").exists()
    summary = run_inference(
        tiny_options(tiny_models, clip, audio, out, segment_chunks=1), tiny_inference_models
    )
    assert summary.resumed_from == 16
    for a, b in zip(media.read_frames(whole), media.read_frames(out), strict=True):
        assert np.array_equal(a, b)
