"""``from latentsync import LipSync`` on the tiny models: runs, progress, cancel, release, errors."""

from __future__ import annotations

import gc
import subprocess
import sys
import weakref
from pathlib import Path

import numpy as np
import pytest

from latentsync import LipSync
from latentsync.api import Cancelled
from latentsync.errors import ConfigError, InputError
from tests.helpers import media

FRAMES = 16  # one model chunk: the shortest real run


def tiny_weights(tiny_models: Path) -> dict:
    """``from_pretrained`` keywords that load the tiny stand-ins on the CPU."""
    return dict(
        unet_config=str(tiny_models / "unet_tiny.yaml"),
        unet_checkpoint=str(tiny_models / "unet_tiny.pt"),
        vae=str(tiny_models / "vae"),
        whisper=str(tiny_models / "whisper_tiny.pt"),
        device="cpu",
        quiet=True,
    )


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("api_media")
    media.write_video(folder / "clip.mp4", media.demo_frames(FRAMES))
    media.write_audio(folder / "speech.wav", media.demo_audio(FRAMES / 25, start=2.0))
    return folder / "clip.mp4", folder / "speech.wav"


@pytest.fixture(scope="module")
def lipsync(tiny_models):
    with LipSync.from_pretrained("1.6", **tiny_weights(tiny_models)) as ls:
        yield ls


@pytest.fixture(scope="module")
def first_run(lipsync, clip, tmp_path_factory):
    """One call with a progress callback: (summary, output, [(done, total), ...])."""
    calls: list[tuple[int, int]] = []
    output = tmp_path_factory.mktemp("api_out") / "out.mp4"
    summary = lipsync(
        *clip, output, steps=2, seed=1, progress=lambda done, total: calls.append((done, total))
    )
    return summary, output, calls


def test_a_call_writes_the_lip_synced_video(first_run, clip):
    summary, output, _ = first_run
    frames, source = media.read_frames(output), media.read_frames(clip[0])
    assert summary.frames == summary.frames_with_face == FRAMES and summary.output == output
    assert len(frames) == FRAMES and frames[0].shape == source[0].shape
    assert media.psnr(frames[8], source[8]) < 60  # the mouth was regenerated, not copied


def test_progress_rises_one_frame_at_a_time_to_the_total(first_run):
    _, _, calls = first_run
    assert calls == [(done, FRAMES) for done in range(1, FRAMES + 1)]


def test_cancel_from_another_thread_stops_the_run(lipsync, clip, tmp_path):
    output = tmp_path / "cancelled.mp4"

    def cancel_after_the_first_frame(done: int, total: int) -> None:
        if done == 1:
            lipsync.cancel()  # what a GUI's Cancel button would call

    with pytest.raises(Cancelled):
        lipsync(*clip, output, steps=2, progress=cancel_after_the_first_frame)
    assert not output.exists()


def test_a_set_cancel_event_stops_before_any_frame(lipsync, clip, tmp_path):
    import threading

    event, calls = threading.Event(), []
    event.set()
    with pytest.raises(Cancelled):
        lipsync(*clip, tmp_path / "o.mp4", cancel=event, progress=lambda *a: calls.append(a))
    assert calls == [] and not (tmp_path / "o.mp4").exists()


def test_model_offload_through_the_api_gives_the_same_frames(tiny_models, clip, first_run, tmp_path):
    _, plain, _ = first_run
    with LipSync.from_pretrained("1.6", offload="model", **tiny_weights(tiny_models)) as ls:
        assert ls.models.offloader is not None
        ls(*clip, tmp_path / "offload.mp4", steps=2, seed=1)
    assert np.array_equal(
        np.stack(media.read_frames(plain)), np.stack(media.read_frames(tmp_path / "offload.mp4"))
    )


def test_leaving_the_with_block_frees_the_models(tiny_models, clip, tmp_path):
    with LipSync.from_pretrained("1.6", **tiny_weights(tiny_models)) as ls:
        unet, vae = weakref.ref(ls.models.unet), weakref.ref(ls.models.vae)
        ls(*clip, tmp_path / "o.mp4", steps=1)
    gc.collect()
    assert unet() is None and vae() is None
    with pytest.raises(ConfigError, match="closed"):
        ls(*clip, tmp_path / "again.mp4")


@pytest.mark.parametrize("name,suggestion", [("step", "steps"), ("guidance", "guidance_scale")])
def test_an_unknown_keyword_is_one_line_naming_the_close_ones(lipsync, clip, tmp_path, name, suggestion):
    with pytest.raises(InputError, match=f"unknown option '{name}': did you mean .*{suggestion}") as caught:
        lipsync(*clip, tmp_path / "o.mp4", **{name: 3})
    assert "\n" not in str(caught.value)


def test_a_call_that_needs_other_models_says_to_make_a_new_lipsync(lipsync, clip, tmp_path):
    with pytest.raises(ConfigError, match=r"dtype='bf16' \(loaded: 'auto'\).*new LipSync") as caught:
        lipsync(*clip, tmp_path / "o.mp4", dtype="bf16")
    assert "\n" not in str(caught.value)


def test_keywords_are_the_cli_flags(lipsync, clip, tmp_path):
    options = lipsync.options(*clip, tmp_path / "o.mp4", fps="source", no_resume=True, guidance_scale=2.0)
    assert (options.fps, options.model_fps, options.resume, options.guidance_scale) == (
        None,
        None,
        False,
        2.0,
    )
    assert options.vae == lipsync.options(*clip, tmp_path / "o.mp4").vae  # defaults from from_pretrained
    assert lipsync.options(*clip, tmp_path / "o.mp4", fps=30).fps == 30.0


def test_bad_inputs_and_settings_raise_the_cli_error_classes(lipsync, clip, tmp_path):
    with pytest.raises(InputError):
        lipsync(tmp_path / "missing.mp4", clip[1], tmp_path / "o.mp4")
    with pytest.raises(ConfigError, match="--steps must be between"):
        lipsync(*clip, tmp_path / "o.mp4", steps=0)


def test_import_latentsync_does_not_load_torch():
    code = "import sys, latentsync; assert 'torch' not in sys.modules; print(latentsync.__version__)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
