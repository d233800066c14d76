"""The seven stages in pipeline order, by name."""

from __future__ import annotations

from functools import cache

from latentsync.data.stage import Stage
from latentsync.registry import load_class

STAGES = {
    "broken": "latentsync.data.broken:BrokenVideoFilter",
    "resample": "latentsync.data.resample:Resampler",
    "shot": "latentsync.data.shot:ShotSplitter",
    "segment": "latentsync.data.segment:Segmenter",
    "affine": "latentsync.data.affine:AffineAligner",
    "sync": "latentsync.data.sync:AudioVisualSync",
    "quality": "latentsync.data.quality:VisualQualityFilter",
}
STAGE_NAMES = tuple(STAGES)


@cache
def get_stage(name: str) -> Stage:
    """The stage object (imported lazily: workers only load what they run)."""
    return load_class(STAGES, name, "stage")()
