"""The end-of-run report: files in/out and rejections per stage, hours kept, duration histogram."""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from latentsync.data.manifest import ManifestEntry

SUMMARY_NAME = "preprocess_summary.json"
HISTOGRAM_NAME = "clip_durations.png"


@dataclass
class StageStats:
    stage: str
    files_in: int = 0
    files_out: int = 0
    rejected: int = 0
    computed: int = 0
    reused: int = 0
    rejections: dict[str, int] = field(default_factory=dict)


@dataclass
class RunSummary:
    stages: list[StageStats]
    kept_clips: int
    kept_hours: float

    def to_json(self) -> dict:
        return asdict(self)

    def text(self) -> str:
        lines = [f"{'stage':<9} {'in':>6} {'out':>6} {'rejected':>9} {'computed':>9} {'reused':>7}"]
        for s in self.stages:
            lines.append(
                f"{s.stage:<9} {s.files_in:>6} {s.files_out:>6} {s.rejected:>9} {s.computed:>9} {s.reused:>7}"
            )
            for reason, count in sorted(s.rejections.items()):
                lines.append(f"    rejected {count} x {reason}")
        lines.append(f"kept {self.kept_clips} clips, {self.kept_hours:.4f} hours")
        return "\n".join(lines)


def stage_stats(name: str, records: list[dict], computed: list[bool]) -> StageStats:
    stats = StageStats(stage=name, files_in=len(records))
    reasons: Counter[str] = Counter()
    for record in records:
        if record["status"] == "kept":
            stats.files_out += len(record["outputs"])
        else:
            stats.rejected += 1
            reasons[record["reason"] or "unknown"] += 1
    stats.computed = sum(computed)
    stats.reused = len(computed) - stats.computed
    stats.rejections = dict(reasons)
    return stats


def summarize(stages: list[StageStats], entries: list[ManifestEntry]) -> RunSummary:
    kept = [e for e in entries if e.status == "kept"]
    hours = sum(e.duration or 0.0 for e in kept) / 3600.0
    return RunSummary(stages=stages, kept_clips=len(kept), kept_hours=round(hours, 6))


def save_summary(summary: RunSummary, root: Path) -> Path:
    path = root / SUMMARY_NAME
    temp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    temp.write_text(json.dumps(summary.to_json(), indent=2, sort_keys=True))
    os.replace(temp, path)
    return path


def save_duration_histogram(durations: list[float], path: Path) -> Path:
    """PNG histogram of kept clip durations (Agg backend: no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.hist(
        durations,
        bins=20,
        range=(0, 12) if not durations or max(durations) <= 12 else None,
        color="#3a7bd5",
        edgecolor="black",
    )
    ax.set_xlabel("clip duration (s)")
    ax.set_ylabel("clips")
    ax.set_title(f"{len(durations)} kept clips, {sum(durations) / 3600:.3f} h")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
