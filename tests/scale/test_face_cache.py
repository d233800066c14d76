"""Face tracks computed once: a rerun with another audio, or after ``latentsync faces``, detects nothing."""

from __future__ import annotations

import numpy as np
import pytest

from latentsync.cli import main
from latentsync.pipeline import faces as faces_module
from latentsync.pipeline.runner import run_inference
from tests.helpers import media
from tests.helpers.tiny_models import tiny_options


@pytest.fixture
def detections(monkeypatch):
    """Frame indices the face detector stage was run on."""
    seen: list[int] = []
    real = faces_module.FaceStage.process
    monkeypatch.setattr(
        faces_module.FaceStage,
        "process",
        lambda self, item, *rest: (seen.append(item.index), real(self, item, *rest))[1],
    )
    return seen


def _run(tiny_models, clip, audio, out, cache, **kw):
    return run_inference(
        tiny_options(tiny_models, clip, audio, out, face_detector="mediapipe", face_cache=str(cache), **kw)
    )


def test_a_rerun_with_another_audio_does_no_face_detection(
    tmp_path, tiny_models, media_dir_small, detections
):
    clip = media_dir_small / "clip.mp4"
    cache = tmp_path / "cache"
    first = _run(tiny_models, clip, media_dir_small / "speech.wav", tmp_path / "a.mp4", cache)
    assert detections == list(range(40)) and first.face_detections == 40
    assert len(list(cache.glob("*.faces.npz"))) == 1

    other = media.write_audio(tmp_path / "other.wav", media.demo_audio(1.2, start=5.0))
    detections.clear()
    second = _run(tiny_models, clip, other, tmp_path / "b.mp4", cache, steps=2, seed=7)
    assert detections == [] and second.face_detections == 0
    assert second.frames == 30 and second.frames_with_face == 30
    # the replayed track gives the frames a fresh detection gives
    fresh = _run(tiny_models, clip, other, tmp_path / "c.mp4", tmp_path / "elsewhere", steps=2, seed=7)
    assert fresh.face_detections == 30
    for a, b in zip(media.read_frames(tmp_path / "b.mp4"), media.read_frames(tmp_path / "c.mp4")):
        assert np.array_equal(a, b)


def test_a_longer_audio_only_detects_the_frames_past_the_track(
    tmp_path, tiny_models, media_dir_small, detections
):
    clip = media_dir_small / "clip.mp4"
    short = media.write_audio(tmp_path / "short.wav", media.demo_audio(0.8, start=2.0))
    _run(tiny_models, clip, short, tmp_path / "a.mp4", tmp_path / "cache")
    assert detections == list(range(20))
    detections.clear()
    _run(tiny_models, clip, media_dir_small / "speech.wav", tmp_path / "b.mp4", tmp_path / "cache")
    assert detections == list(range(20, 40))


def test_faces_command_writes_the_track_infer_reuses(
    tmp_path, tiny_models, media_dir_small, detections, capsys
):
    clip = media_dir_small / "clip.mp4"
    cache = tmp_path / "cache"
    config = str(tiny_models / "unet_tiny.yaml")  # the track is for this model's crop size
    argv = [
        "faces",
        str(clip),
        "--unet-config",
        config,
        "--face-detector",
        "mediapipe",
        "--face-cache",
        str(cache),
    ]
    assert main([*argv, "--quiet"]) == 0
    assert "40 frames, face in 40" in capsys.readouterr().out
    assert detections == list(range(40))
    detections.clear()
    summary = _run(tiny_models, clip, media_dir_small / "speech.wav", tmp_path / "a.mp4", cache)
    assert detections == [] and summary.frames_with_face == 40


def test_face_cache_off_keeps_nothing(tmp_path, tiny_models, media_dir_small):
    cache = tmp_path / "cache"
    out = tmp_path / "a.mp4"
    _run(tiny_models, media_dir_small / "clip.mp4", media_dir_small / "speech.wav", out, "off")
    assert out.is_file() and not cache.exists()
    assert not list(tmp_path.glob(".*latentsync"))  # the work folder (and its track) went with it
