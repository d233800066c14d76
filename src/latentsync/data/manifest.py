"""``manifest.jsonl``: one line per input file or clip with its final fate.

Fields: ``source`` (the raw input it came from), ``clip`` (the last file it reached),
``status`` (kept/rejected), ``stage`` (the stage that rejected it, or the last one run),
``reason``, ``duration`` (s), ``sync_offset``, ``sync_conf``, ``iqa_score``. Paths are relative
to the output root when they lie under it, so two runs in different places compare equal.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

MANIFEST_NAME = "manifest.jsonl"


@dataclass
class ManifestEntry:
    source: str
    clip: str | None
    status: str
    stage: str
    reason: str | None = None
    duration: float | None = None
    sync_offset: int | None = None
    sync_conf: float | None = None
    iqa_score: float | None = None


def relative_to_root(path: str | Path, root: Path) -> str:
    path = Path(path)
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def sort_key(entry: ManifestEntry) -> tuple:
    return (entry.source, entry.clip or "", entry.stage)


def write_manifest(entries: list[ManifestEntry], path: Path) -> Path:
    """Write the entries sorted by source then clip, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with temp.open("w") as f:
        for entry in sorted(entries, key=sort_key):
            f.write(json.dumps(asdict(entry), sort_keys=True) + "\n")
    os.replace(temp, path)
    return path


def read_manifest(path: str | Path) -> list[ManifestEntry]:
    with Path(path).open() as f:
        return [ManifestEntry(**json.loads(line)) for line in f if line.strip()]
