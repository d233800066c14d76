"""The end of a job: finished segments joined with the audio into the output, and the summary line."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from latentsync.pipeline.journal import Journal
from latentsync.video.atomic import atomic_output
from latentsync.video.mux import mux_segments

logger = logging.getLogger(__name__)


@dataclass
class InferenceSummary:
    frames: int
    frames_with_face: int
    seconds: float
    output: Path
    resumed_from: int = 0
    passed: dict[str, int] = field(default_factory=dict)  # frames left unchanged, by reason (this run)
    face_detections: int = 0  # frames that went through the face detector (0: a cached face track)

    def line(self) -> str:
        passed = ", ".join(f"{count} {why}" for why, count in self.passed.items() if count)
        return (
            f"{self.frames} frames, face in {self.frames_with_face}, {self.seconds:.1f} s"
            f"{f' (resumed at frame {self.resumed_from})' if self.resumed_from else ''}"
            f"{f'; unchanged: {passed}' if passed else ''} -> {self.output}"
        )


def finish_output(options, journal: Journal, timeline, started: float, resumed_from: int, passed: dict):
    """Join the finished segments and add the audio into the output (one pass, atomic); drop the work folder."""

    if journal.data.next_start != timeline.total:
        raise RuntimeError(f"pipeline stopped at frame {journal.data.next_start} of {timeline.total}")
    with atomic_output(options.output) as tmp_out:
        mux_segments(journal.segment_paths(), options.audio, tmp_out, duration_seconds=timeline.duration)
    faces_total = journal.data.faces
    journal.remove()
    summary = InferenceSummary(
        timeline.total, faces_total, time.monotonic() - started, options.output, resumed_from, passed
    )
    logger.info("done: %s", summary.line())
    return summary
