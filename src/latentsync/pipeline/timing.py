"""Optional per-stage timers for a lip-sync run (benchmarks read them; off by default).

Stages run on different threads, so each stage's total is its own busy time: the sum over stages
can exceed the wall time when they overlap, which is the point of measuring them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

# Display order of the stages the pipeline reports.
STAGES = ("decode", "detect", "align", "audio", "vae_encode", "unet", "vae_decode", "paste", "encode")
MODEL_STAGES = ("audio", "vae_encode", "unet", "vae_decode")


@dataclass
class StageTotal:
    seconds: float = 0.0
    calls: int = 0
    frames: int = 0


class StageTimes:
    """Thread-safe busy-time accumulator; ``sync`` (e.g. ``torch.cuda.synchronize``) runs before each
    reading so asynchronous devices are timed honestly."""

    def __init__(self, sync: Callable[[], None] | None = None):
        self.sync = sync
        self.totals: dict[str, StageTotal] = {}
        self.wall_seconds = 0.0
        self._lock = threading.Lock()

    def add(self, stage: str, seconds: float, frames: int = 0) -> None:
        with self._lock:
            total = self.totals.setdefault(stage, StageTotal())
            total.seconds += seconds
            total.calls += 1
            total.frames += frames

    @contextmanager
    def measure(self, stage: str, frames: int = 0) -> Iterator[None]:
        if self.sync is not None:
            self.sync()
        start = time.perf_counter()
        try:
            yield
        finally:
            if self.sync is not None:
                self.sync()
            self.add(stage, time.perf_counter() - start, frames)

    def timed_iter(self, stage: str, items: Iterator, frames_per_item: int = 1) -> Iterator:
        """Charge the time spent producing each item of ``items`` to ``stage``."""
        while True:
            start = time.perf_counter()
            try:
                item = next(items)
            except StopIteration:
                self.add(stage, time.perf_counter() - start, 0)
                return
            self.add(stage, time.perf_counter() - start, frames_per_item)
            yield item

    def seconds(self, stage: str) -> float:
        total = self.totals.get(stage)
        return total.seconds if total else 0.0

    def model_seconds(self) -> float:
        return sum(self.seconds(s) for s in MODEL_STAGES)

    def ms_per_frame(self, stage: str, frames: int) -> float:
        return 1000.0 * self.seconds(stage) / max(1, frames)

    def table(self, frames: int) -> str:
        """One line per stage: busy seconds and ms per output frame."""
        lines = [f"{'stage':<11} {'seconds':>9} {'ms/frame':>10}"]
        names = [s for s in STAGES if s in self.totals] + sorted(set(self.totals) - set(STAGES))
        for name in names:
            lines.append(f"{name:<11} {self.seconds(name):9.2f} {self.ms_per_frame(name, frames):10.1f}")
        if self.wall_seconds:
            lines.append(
                f"{'wall':<11} {self.wall_seconds:9.2f} {1000 * self.wall_seconds / max(1, frames):10.1f}"
            )
        return "\n".join(lines)


class NoTimes(StageTimes):
    """The default: measuring costs nothing."""

    def add(self, stage: str, seconds: float, frames: int = 0) -> None:
        return None

    @contextmanager
    def measure(self, stage: str, frames: int = 0) -> Iterator[None]:
        yield

    def timed_iter(self, stage: str, items: Iterator, frames_per_item: int = 1) -> Iterator:
        return items


NO_TIMES = NoTimes()
