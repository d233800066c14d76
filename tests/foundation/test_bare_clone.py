"""A bare clone tests itself: no sibling ``shared/`` folder, no environment hints, no network."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.golden import REPO

FAST_SUBSET = ["tests/test_fixtures.py", "tests/face/test_align.py", "tests/audio/test_syncnet_mel.py"]


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def bare_clone(tmp_path_factory) -> Path:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout: nothing to clone")
    clone = tmp_path_factory.mktemp("isolated") / "latentsync"
    _git("clone", "--quiet", "--no-hardlinks", str(REPO), str(clone), cwd=REPO)
    assert not (clone.parent / "shared").exists()
    return clone


def test_tracked_files_never_point_outside_the_clone(bare_clone):
    pattern = "|".join(["LATENTSYNC_" + "SHARED", r"\.\./shared", "/work/" + "shared"])
    paths = ["src", "tests", "benchmarks", "scripts", ".ci", f":!{Path(__file__).relative_to(REPO)}"]
    hits = subprocess.run(
        ["git", "grep", "-nE", pattern, "--", *paths], cwd=bare_clone, capture_output=True, text=True
    )
    assert hits.returncode == 1, f"the clone still reads outside itself:\n{hits.stdout}"


def test_fast_subset_passes_in_a_bare_clone(bare_clone):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LATENTSYNC_", "PYTEST_"))}
    env.update(PYTHONPATH=str(bare_clone / "src") + os.pathsep + str(bare_clone), HF_HUB_OFFLINE="1")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *FAST_SUBSET],
        cwd=bare_clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert " passed" in run.stdout and " failed" not in run.stdout
