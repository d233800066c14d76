"""SIGKILL at three points of ``latentsync infer``; the same command then finishes with the same frames.

Points, found by watching the work folder ``.<output>.latentsync/``: (a) the journal exists but no
segment is finished (models loaded, first segment encoding), (b) one or two of the three segments
are finished, (c) all segments are finished and the final join/mux is running. The output path is
watched the whole time: it must never hold a partial file.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from latentsync.pipeline.journal import work_dir_for
from latentsync.pipeline.runner import run_inference
from tests.helpers import media
from tests.helpers.tiny_models import tiny_infer_argv
from tests.pipeline.conftest import tiny_options
from tests.robustness import inputs

REPO = Path(__file__).resolve().parents[2]
FRAMES = 48  # three resumable segments of 16 frames (--segment-chunks 1)
SEGMENTS = 3


@pytest.fixture(scope="module")
def run_inputs(tmp_path_factory, tiny_models, tiny_inference_models):
    root = tmp_path_factory.mktemp("crash")
    clip = inputs.encode_video(root / "clip.mp4", inputs.demo(FRAMES))
    audio = inputs.encode_audio(root / "speech.wav", inputs.speech(FRAMES / 25))
    reference = root / "reference.mp4"
    run_inference(tiny_options(tiny_models, clip, audio, reference, segment_chunks=1), tiny_inference_models)
    return clip, audio, media.read_frames(reference)


def _segments_done(out: Path) -> int | None:
    """Finished segments in the journal; None while there is no journal."""
    try:
        return len(json.loads((work_dir_for(out) / "journal.json").read_text())["segments"])
    except (FileNotFoundError, ValueError, KeyError):
        return None


class WatchedRun:
    """One ``latentsync infer`` process whose output path is checked every couple of milliseconds."""

    def __init__(self, argv: list[str], out: Path):
        self.out = out
        self.sizes_seen_while_running: set[int] = set()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "latentsync", *argv],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def _look(self) -> None:
        if self.out.exists():
            self.sizes_seen_while_running.add(self.out.stat().st_size)

    def until(self, condition: Callable[[], bool], timeout: float = 240) -> bool:
        """Poll until ``condition`` holds (True) or the process exits (False)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            self._look()
            if condition():
                return True
            time.sleep(0.002)
        raise TimeoutError("the run neither reached the point nor finished")

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.communicate()

    def finish(self) -> tuple[int, str, str]:
        self.until(lambda: False)
        out, err = self.proc.communicate()
        return self.proc.returncode, out, err


KILL_POINTS = {
    "before_first_segment": lambda n: n == 0,
    "after_one_segment": lambda n: n is not None and 1 <= n < SEGMENTS,
    "before_final_mux": lambda n: n == SEGMENTS,
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_sigkill_then_same_command_gives_identical_frames(tmp_path, tiny_models, run_inputs, point):
    clip, audio, reference = run_inputs
    out = tmp_path / "lip synced.mp4"
    argv = tiny_infer_argv(tiny_models, clip, audio, out, "--steps", "1", "--segment-chunks", "1", "--quiet")
    reached = KILL_POINTS[point]
    killed_at = None
    for _attempt in range(4):  # the last point is a short window: a run may finish first
        run = WatchedRun(argv, out)
        if run.until(lambda: reached(_segments_done(out))):
            killed_at = _segments_done(out)
            run.kill()
            assert run.sizes_seen_while_running == set()
            assert not out.exists(), "a partial output appeared at the output path"
            break
        run.finish()
        out.unlink()
    assert killed_at is not None, f"never caught a run at {point}"
    assert reached(killed_at)

    rerun = WatchedRun(argv, out)
    code, stdout, err = rerun.finish()
    assert code == 0, err
    final_size = out.stat().st_size
    assert rerun.sizes_seen_while_running <= {final_size}  # only ever the finished file
    if killed_at:
        assert f"resumed at frame {killed_at * 16}" in stdout, stdout
    else:
        assert "resumed" not in stdout
    frames = media.read_frames(out)
    assert len(frames) == FRAMES
    assert all(np.array_equal(a, b) for a, b in zip(frames, reference))
    assert not work_dir_for(out).exists()
