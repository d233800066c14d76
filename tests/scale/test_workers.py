"""One video across 2 local Dask workers: the same frames as one process, and resumable."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from latentsync.pipeline import faces as faces_module
from latentsync.pipeline.journal import Journal, work_dir_for
from latentsync.pipeline.runner import run_inference
from tests.helpers import media
from tests.helpers.tiny_models import tiny_options

pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """64 frames (4 segments of 16 with ``segment_chunks=1``) of demo1 with 2.6 s of speech, at 25 fps
    output from a 25 fps source; a cutaway (frames 20-23 black) so segments hold fades and gaps."""
    folder = tmp_path_factory.mktemp("workers")
    frames = media.demo_frames(64)
    for i in range(20, 24):
        frames[i] = np.zeros_like(frames[i])
    media.write_video(folder / "clip.mp4", frames)
    media.write_audio(folder / "speech.wav", media.demo_audio(2.6, start=1.0))
    return folder


def _options(tiny_models, clip, out, **kw):
    kw.setdefault("segment_chunks", 1)
    return tiny_options(
        tiny_models, clip / "clip.mp4", clip / "speech.wav", out, face_detector="mediapipe", **kw
    )


def test_two_workers_write_the_frames_of_one_process(tmp_path, tiny_models, clip):
    single = run_inference(_options(tiny_models, clip, tmp_path / "single.mp4"))
    shared = run_inference(_options(tiny_models, clip, tmp_path / "two.mp4", workers=2, devices="cpu"))
    assert shared.frames == single.frames == 65
    assert shared.frames_with_face == single.frames_with_face
    assert shared.passed == single.passed
    one, two = media.read_frames(tmp_path / "single.mp4"), media.read_frames(tmp_path / "two.mp4")
    assert len(one) == len(two) == 65
    for i, (a, b) in enumerate(zip(one, two)):
        assert np.array_equal(a, b), f"frame {i} differs"
    source = media.read_frames(clip / "clip.mp4")
    assert not np.array_equal(one[5], source[5])  # the mouth was really regenerated


def test_a_killed_multi_worker_run_resumes_only_the_missing_segments(
    tmp_path, tiny_models, clip, monkeypatch
):
    reference = tmp_path / "reference.mp4"
    run_inference(_options(tiny_models, clip, reference))
    out = tmp_path / "resumed.mp4"
    options = _options(tiny_models, clip, out, workers=2, devices="cpu")
    # A driver killed after its first two segments: journal kept, segments 2 and 3 missing.
    real_add = Journal.add_segment

    def add_then_die(self, segment, state, faces):
        real_add(self, segment, state, faces)
        if len(self.data.segments) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(Journal, "add_segment", add_then_die)
    with pytest.raises(KeyboardInterrupt):
        run_inference(options)
    assert not out.exists() and (work_dir_for(out) / "journal.json").is_file()
    monkeypatch.setattr(Journal, "add_segment", real_add)
    detections = []
    real_process = faces_module.FaceStage.process
    monkeypatch.setattr(
        faces_module.FaceStage,
        "process",
        lambda self, item, *rest: (detections.append(item.index), real_process(self, item, *rest))[1],
    )
    summary = run_inference(options)
    assert summary.resumed_from == 32  # two segments of 16 were kept
    assert detections == []  # the face track was saved: no detection on resume
    for i, (a, b) in enumerate(zip(media.read_frames(reference), media.read_frames(out))):
        assert np.array_equal(a, b), f"frame {i} differs"


def test_segments_of_killed_workers_are_rendered_again(tmp_path, tiny_models, clip):
    """Both worker processes are killed (SIGKILL) mid-run, with segments in flight: Dask's nannies
    restart them, the lost segments run again, and the output equals an uninterrupted run's."""
    psutil = pytest.importorskip("psutil")
    reference = tmp_path / "reference.mp4"
    run_inference(_options(tiny_models, clip, reference))
    out = tmp_path / "killed.mp4"
    journal = work_dir_for(out) / "journal.json"
    killed: list[int] = []

    def kill_workers_after_first_segment() -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not killed:
            if journal.is_file() and '"file": "seg_' in journal.read_text():
                for child in psutil.Process().children(recursive=True):
                    if any("spawn_main" in part for part in child.cmdline()):
                        child.kill()
                        killed.append(child.pid)
                return
            time.sleep(0.02)

    killer = threading.Thread(target=kill_workers_after_first_segment)
    killer.start()
    summary = run_inference(_options(tiny_models, clip, out, workers=2, devices="cpu"))
    killer.join()
    assert len(killed) == 2 and summary.frames == 65
    for i, (a, b) in enumerate(zip(media.read_frames(reference), media.read_frames(out))):
        assert np.array_equal(a, b), f"frame {i} differs"
