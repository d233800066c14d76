"""The CLI in a child process with a clean weights environment (HF_* and LATENTSYNC_* removed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_cli(
    args: list[str], env_extra: dict[str, str], cwd: Path, timeout: float = 300
) -> subprocess.CompletedProcess:
    """``python -m latentsync *args`` in ``cwd``, with ``env_extra`` on top of the cleaned environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "LATENTSYNC_"))}
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "-m", "latentsync", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
