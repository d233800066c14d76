"""The CLI in a child process with a clean weights environment (HF_* and LATENTSYNC_* removed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_cli(
    args: list[str], env_extra: dict[str, str], cwd: Path, timeout: float = 300
) -> subprocess.CompletedProcess:
    """``python -m latentsync *args`` in ``cwd``; only ``LATENTSYNC_SHARED`` (test media) is kept."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "LATENTSYNC_"))}
    if "LATENTSYNC_SHARED" in os.environ:
        env["LATENTSYNC_SHARED"] = os.environ["LATENTSYNC_SHARED"]
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "-m", "latentsync", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
