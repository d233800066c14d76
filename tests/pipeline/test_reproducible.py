"""The same ``latentsync infer`` command gives the same decoded frames: run twice, and killed + resumed.

The clip is 700x700 (not a multiple of 16; 44 macroblocks wide, not a multiple of 8): the size at
which two runs of one command used to differ in a segment (libx264's AVX-512 MB-tree kernel, see
``latentsync.video.encoder_options``). 40 frames with ``--segment-chunks 1`` make three segments
of 16, 16 and 8 frames, so the last one is partial.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from latentsync.pipeline.journal import work_dir_for
from tests.helpers import media
from tests.helpers.tiny_models import tiny_infer_argv

FRAMES = 40
REPO = Path(__file__).resolve().parents[2]


def _cli(args: list[str]) -> subprocess.Popen:
    """``latentsync`` as a real process (so it can be killed), output captured."""
    return subprocess.Popen(
        [sys.executable, "-m", "latentsync", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _run(args: list[str]) -> str:
    proc = _cli(args)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    return out


def _assert_same_frames(got: list[np.ndarray], expected: list[np.ndarray]) -> None:
    assert len(got) == len(expected) == FRAMES
    assert got[0].shape == (700, 700, 3)
    differing = [i for i, (a, b) in enumerate(zip(got, expected)) if not np.array_equal(a, b)]
    assert not differing, f"decoded frames differ at {differing}"


@pytest.fixture(scope="module")
def command(tiny_models, clip_700, media_dir_small) -> list[str]:
    """One ``infer`` command without its ``--output``."""
    return tiny_infer_argv(
        tiny_models,
        clip_700,
        media_dir_small / "speech.wav",  # 1.6 s: 40 frames at 25 fps
        None,
        "--steps",
        "1",
        "--segment-chunks",
        "1",
        "--quiet",
    )


@pytest.fixture(scope="module")
def first_run(tmp_path_factory, command) -> list[np.ndarray]:
    out = tmp_path_factory.mktemp("first") / "out.mp4"
    _run([*command, "--output", str(out)])
    return media.read_frames(out)


def test_same_command_twice_gives_identical_frames(tmp_path, command, first_run):
    out = tmp_path / "again.mp4"
    _run([*command, "--output", str(out)])
    _assert_same_frames(media.read_frames(out), first_run)


def test_resume_after_kill_gives_identical_frames(tmp_path, command, first_run):
    out = tmp_path / "resumed.mp4"
    journal = work_dir_for(out) / "journal.json"
    proc = _cli([*command, "--output", str(out)])
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and proc.poll() is None:
        if journal.is_file() and '"file": "seg_' in journal.read_text():
            break
        time.sleep(0.05)
    assert proc.poll() is None, "run finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not out.exists(), "a partial output appeared at the output path"
    stdout = _run([*command, "--output", str(out)])
    assert "resumed at frame 16" in stdout or "resumed at frame 32" in stdout, stdout
    _assert_same_frames(media.read_frames(out), first_run)
    assert not work_dir_for(out).exists()
