"""The resume journal: which segments of an output are finished, and the state to continue from.

It lives in a work folder beside the output (``.<name>.latentsync/``); every update is written to
a temp file and renamed, so a kill at any moment leaves either the old or the new journal.
Segments may finish in any order (several workers); a rerun does only the missing ones.
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
    faces: int = 0  # frames of the segment with a face


@dataclass
class JournalData:
    fingerprint: str
    total_frames: int
    segment_frames: int
    segments: list[Segment] = field(default_factory=list)  # finished, sorted by start
    states: dict[str, dict] = field(default_factory=dict)  # chunk-planner state at segment starts

    @property
    def faces(self) -> int:
        return sum(s.faces for s in self.segments)

    @property
    def next_start(self) -> int:
        """The first frame no finished segment covers."""
        position = 0
        for segment in self.segments:
            if segment.start != position:
                break
            position = segment.stop
        return position

    @property
    def finished_frames(self) -> int:
        return sum(s.stop - s.start for s in self.segments)

    def is_done(self, start: int) -> bool:
        return any(s.start == start for s in self.segments)

    def state_at(self, start: int) -> dict | None:
        return self.states.get(str(start))


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

    def add_segment(self, segment: Segment, next_state: dict | None, faces: int) -> None:
        """Record a finished segment (replacing a same-start one) and the state where the next starts."""
        assert self.data is not None
        kept = [s for s in self.data.segments if s.start != segment.start]
        segment.faces = faces
        self.data.segments = sorted([*kept, segment], key=lambda s: s.start)
        if next_state is not None:
            self.data.states[str(segment.stop)] = next_state
        self._write()

    def plan_states(self, states: dict[int, dict | None]) -> None:
        """Record the planner state of every segment start (a multi-worker run knows them up front)."""
        assert self.data is not None
        self.data.states.update({str(k): v for k, v in states.items() if v is not None})
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
