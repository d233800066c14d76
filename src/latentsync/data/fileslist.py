"""The training file list: one clip path per line, as the seed's ``write_fileslist`` writes it."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from latentsync.errors import InputError

CLIP_SUFFIXES = (".mp4",)


def gather_clips(dataset_dir: str | Path) -> list[Path]:
    """Every ``.mp4`` under ``dataset_dir``, sorted, skipping hidden temp files."""
    root = Path(dataset_dir)
    if not root.is_dir():
        raise InputError(f"dataset folder not found: {root}")
    return sorted(
        p.resolve()
        for p in root.rglob("*")
        if p.is_file() and p.suffix in CLIP_SUFFIXES and not p.name.startswith(".")
    )


def write_fileslist(dataset_dirs: Iterable[str | Path], output: str | Path) -> int:
    """Write the clips of all folders to ``output`` (atomically); returns how many."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    clips = [clip for folder in dataset_dirs for clip in gather_clips(folder)]
    temp = output.with_name(f".{output.name}.tmp-{os.getpid()}")
    temp.write_text("".join(f"{clip}\n" for clip in clips))
    os.replace(temp, output)
    return len(clips)
