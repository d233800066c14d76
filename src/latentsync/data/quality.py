"""Stage 7, ``quality``: keep clips that look good enough, by hyperIQA (KonIQ-10k weights).

Algorithm (the seed's filter): score the first, middle and last frames (224 centre crops,
ImageNet normalisation) with hyperIQA and average; clips scoring below 40 (0-100 scale) are
dropped, the rest copied unchanged to ``high_visual_quality/``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from latentsync.data.stage import Settings, Stage, StageRecord
from latentsync.data.sync import default_device
from latentsync.eval.iqa_score import clip_quality_score
from latentsync.models.hyperiqa import load_hyperiqa
from latentsync.video.clip_file import copy_atomic
from latentsync.video.reader import read_all_frames

HYPERIQA_WEIGHTS = "koniq"  # auxiliary key of latentsync.weights


@cache
def quality_model(path: str, device: str):

    return load_hyperiqa(path, device)


class VisualQualityFilter(Stage):
    name = "quality"
    output_folder = "high_visual_quality"
    uses_gpu = True

    def required_weights(self, settings: Settings) -> list[str]:
        return [HYPERIQA_WEIGHTS]

    def run(self, src: Path, dst: Path, settings: Settings) -> StageRecord:

        frames = read_all_frames(src)
        score = clip_quality_score(
            list(frames), quality_model(str(settings.weight(HYPERIQA_WEIGHTS)), default_device())
        )
        if score < settings.quality_threshold:
            return StageRecord.rejected("visual quality below threshold", iqa_score=round(score, 4))
        copy_atomic(src, dst)
        return StageRecord.kept([dst], iqa_score=round(score, 4))
