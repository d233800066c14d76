"""The seven stages in pipeline order, by name."""

from __future__ import annotations

from functools import cache

from latentsync.data.stage import Stage

STAGE_NAMES = ("broken", "resample", "shot", "segment", "affine", "sync", "quality")


@cache
def get_stage(name: str) -> Stage:
    """The stage object (imported lazily: workers only load what they run)."""
    if name == "broken":
        from latentsync.data.broken import BrokenVideoFilter as cls
    elif name == "resample":
        from latentsync.data.resample import Resampler as cls
    elif name == "shot":
        from latentsync.data.shot import ShotSplitter as cls
    elif name == "segment":
        from latentsync.data.segment import Segmenter as cls
    elif name == "affine":
        from latentsync.data.affine import AffineAligner as cls
    elif name == "sync":
        from latentsync.data.sync import AudioVisualSync as cls
    elif name == "quality":
        from latentsync.data.quality import VisualQualityFilter as cls
    else:
        raise KeyError(f"unknown stage '{name}': use one of {', '.join(STAGE_NAMES)}")
    return cls()
