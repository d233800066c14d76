"""Outputs that appear complete or not at all, so an interrupted job never leaves a broken file."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_output(path: str | Path) -> Iterator[Path]:
    """Yield a hidden temporary path next to ``path``; rename it over ``path`` on success.

    The temporary name keeps the suffix so PyAV infers the same container. On any exception it is
    deleted and the exception propagates; an existing ``path`` is left untouched until the rename.
    """
    path = Path(path)
    temp = path.with_name(f".{path.stem}.{secrets.token_hex(4)}.partial{path.suffix}")
    try:
        yield temp
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    if not temp.exists():
        raise FileNotFoundError(f"nothing was written to {temp} for {path}")
    os.replace(temp, path)
