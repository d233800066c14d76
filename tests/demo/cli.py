"""Running the ``latentsync`` CLI in a clean subprocess: no hub settings inherited, an empty HF cache."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def clean_env(cwd: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "LATENTSYNC_"))}
    env["HF_HUB_CACHE"] = str(cwd / "hf-cache")
    env.update(extra or {})
    return env


def run_cli(
    args: list[str], cwd: Path, env: dict[str, str] | None = None, program: list[str] | None = None
) -> subprocess.CompletedProcess:
    """``program`` (default: this interpreter's ``-m latentsync``) with ``args``, run in ``cwd``."""
    return subprocess.run(
        [*(program or [sys.executable, "-m", "latentsync"]), *args],
        cwd=cwd,
        env=clean_env(cwd, env),
        capture_output=True,
        text=True,
        timeout=600,
    )


def single_error_line(result: subprocess.CompletedProcess) -> str:
    """The one ``error:`` line a user error prints (asserts there is nothing else and no traceback)."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and "Traceback" not in result.stderr
    return lines[0]
