"""Small tmpfs mounts (the tests run as root, so permissions alone cannot make a folder unwritable)."""

from __future__ import annotations

import subprocess
from contextlib import contextmanager
from pathlib import Path


def try_mount_tmpfs(path: Path, options: str) -> bool:
    """Mount a tmpfs with ``options`` at ``path``; False where mounting is not allowed (CI containers)."""
    path.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True, check=False
    )
    return result.returncode == 0


@contextmanager
def tmpfs(path: Path, options: str):
    """Yields whether the mount worked; unmounts on exit."""
    mounted = try_mount_tmpfs(path, options)
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)
