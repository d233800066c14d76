"""./test.sh's two runs: each venv collects its own tests, and one closing line adds both up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers.golden import REPO

ENHANCER_TESTS = "tests/face/test_enhancer.py"


def _pytest(args: list[str], cwd: Path, split: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LATENTSYNC_", "PYTEST_"))}
    if split:
        env["LATENTSYNC_TEST_SPLIT"] = split
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _collected(split: str | None) -> set[str]:
    run = _pytest(["-q", "--collect-only", ENHANCER_TESTS], REPO, split)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    return {line.split("::")[1] for line in run.stdout.splitlines() if line.startswith(ENHANCER_TESTS + "::")}


def test_each_run_collects_its_own_tests():
    everything, main, enhance = _collected(None), _collected("main"), _collected("enhance")
    assert main and enhance and not main & enhance and main | enhance == everything
    assert "test_strength_blends_generated_and_restored" in enhance  # loads a spandrel model
    assert "test_paste_size_is_the_crop_in_the_frame_never_smaller" in main  # pure geometry


def test_closing_line_adds_up_both_runs(tmp_path):
    (tmp_path / "test_a.py").write_text(
        "import pytest\n"
        "def test_ok(): pass\n"
        "def test_ok_too(): pass\n"
        "def test_bad(): assert False\n"
        "@pytest.mark.skip(reason='x')\n"
        "def test_skipped(): pass\n"
    )
    (tmp_path / "test_b.py").write_text(
        "import pytest\n@pytest.fixture\ndef broken(): raise RuntimeError\ndef test_error(broken): pass\ndef test_fine(): pass\n"
    )
    for name in ("a", "b"):
        _pytest(["-q", f"test_{name}.py", f"--junitxml={tmp_path / name}.xml"], tmp_path)
    totals = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "test_totals.py"),
            str(tmp_path / "a.xml"),
            str(tmp_path / "b.xml"),
            str(tmp_path / "missing.xml"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert totals.stdout.splitlines() == ["total: 3 passed, 2 failed, 1 skipped"]
