"""The resume journal: which segments of an output are finished, and the state to continue from.

It lives in a work folder beside the output (``.<name>.latentsync/``); every update is written to
a temp file and renamed, so a kill at any moment leaves either the old or the new journal.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

JOURNAL_NAME = "journal.json"


@dataclass
class Segment:
    start: int
    stop: int
    file: str


@dataclass
class JournalData:
    fingerprint: str
    total_frames: int
    segment_frames: int
    segments: list[Segment] = field(default_factory=list)
    state: dict | None = None  # stage states at ``next_start``
    faces: int = 0

    @property
    def next_start(self) -> int:
        return self.segments[-1].stop if self.segments else 0


def work_dir_for(output: Path) -> Path:
    return output.parent / f".{output.name}.latentsync"


class Journal:
    def __init__(self, work_dir: Path):
        self.work_dir = work_dir
        self.path = work_dir / JOURNAL_NAME
        self.data: JournalData | None = None

    def open(self, fingerprint: str, total_frames: int, segment_frames: int, resume: bool) -> JournalData:
        """Continue a matching journal, or start over (wiping stale segments)."""
        if resume and self.path.is_file():
            try:
                raw = json.loads(self.path.read_text())
                raw["segments"] = [Segment(**s) for s in raw.get("segments", [])]
                data = JournalData(**raw)
            except (ValueError, TypeError) as exc:
                logger.warning("ignoring unreadable resume journal %s: %s", self.path, exc)
                data = None
            if data and (data.fingerprint, data.total_frames, data.segment_frames) == (
                fingerprint,
                total_frames,
                segment_frames,
            ):
                if all((self.work_dir / s.file).is_file() for s in data.segments):
                    self.data = data
                    if data.segments:
                        logger.info("resuming at frame %d of %d", data.next_start, total_frames)
                    return data
            logger.info("inputs or options changed since the last attempt: starting over")
        if self.work_dir.exists():
            shutil.rmtree(self.work_dir)
        self.work_dir.mkdir(parents=True)
        self.data = JournalData(fingerprint, total_frames, segment_frames)
        self._write()
        return self.data

    def add_segment(self, segment: Segment, state: dict | None, faces: int) -> None:
        assert self.data is not None
        self.data.segments.append(segment)
        self.data.state = state
        self.data.faces += faces
        self._write()

    def _write(self) -> None:
        tmp = self.path.with_suffix(".json.tmp")
        with open(tmp, "w") as f:
            json.dump(asdict(self.data), f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    def segment_paths(self) -> list[Path]:
        assert self.data is not None
        return [self.work_dir / s.file for s in self.data.segments]

    def remove(self) -> None:
        shutil.rmtree(self.work_dir, ignore_errors=True)
