"""The tiny interface every pipeline stage implements, and the record a stage returns.

A stage is a pure function of one input file: ``run(src, dst, settings) -> StageRecord``,
writing its outputs (if any) atomically under ``dst``'s folder. It never touches its input,
so it can be rerun at will; the engine decides what is already done.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

KEPT = "kept"
REJECTED = "rejected"


@dataclass
class StageRecord:
    """What a stage did with one file: kept (with its outputs) or rejected (with a reason)."""

    status: str
    outputs: list[str] = field(default_factory=list)
    reason: str | None = None
    measurements: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def kept(cls, outputs: list[str | Path], **measurements: Any) -> StageRecord:
        return cls(KEPT, [str(p) for p in outputs], None, measurements)

    @classmethod
    def rejected(cls, reason: str, **measurements: Any) -> StageRecord:
        return cls(REJECTED, [], reason, measurements)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StageRecord:
        return cls(
            data["status"],
            list(data.get("outputs", [])),
            data.get("reason"),
            dict(data.get("measurements", {})),
        )


@dataclass
class Settings:
    """Run-wide options every stage may read (picklable: shipped to Dask workers)."""

    resolution: int = 256
    sync_conf_threshold: float = 3.0
    detector: str = "auto"  # resolved to insightface or mediapipe once, before the stages run
    face_threshold: float | None = None  # detector's minimum score (None: its default)
    aux_dir: str | None = None
    min_face_size: int = 64
    quality_threshold: float = 40.0
    max_sync_offset: int = 6
    sync_face_conf: float = 0.9  # S3FD box confidence for SyncNet face tracks (the seed's value)
    sync_min_track: int = 50  # frames a face track needs (the seed's value)
    sync_detect_every: int = 1  # run S3FD on every n-th frame only; tracks interpolate between
    weights: dict[str, str] = field(default_factory=dict)  # auxiliary key -> resolved path

    def weight(self, name: str) -> Path:
        return Path(self.weights[name])


class Stage:
    """Base of the seven stages: a name, an output folder, and ``run`` over one file.

    ``output_folder`` is ``None`` for stages that only filter (their kept output is the input file);
    a stage whose folder depends on the settings overrides ``folder``. ``uses_gpu`` stages get one
    task per GPU on a cluster with ``GPU`` worker resources.
    """

    name: ClassVar[str]
    output_folder: ClassVar[str | None] = None
    uses_gpu: ClassVar[bool] = False

    def folder(self, settings: Settings) -> str | None:
        return self.output_folder

    def required_weights(self, settings: Settings) -> list[str]:
        """Auxiliary weight keys (latentsync.weights) this stage needs (resolved by the engine)."""
        return []

    def run(self, src: Path, dst: Path, settings: Settings) -> StageRecord:
        """Process ``src``; ``dst`` is the output path it would have if written whole (``.mp4``)."""
        raise NotImplementedError
