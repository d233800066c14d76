"""``eval iqa``: hyperIQA on a video's first, middle and last frames (deterministic koniq weights)."""

from __future__ import annotations

import json

import pytest

from latentsync.cli import main
from latentsync.eval.iqa_score import clip_quality_score
from latentsync.models.hyperiqa import load_hyperiqa
from latentsync.video.reader import iter_frames


def test_iqa_command_scores_first_middle_last(eval_aux, short_clip, tmp_path):
    assert (
        main(
            [
                "eval",
                "iqa",
                "--video",
                str(short_clip),
                "--aux-dir",
                str(eval_aux),
                "--report-dir",
                str(tmp_path),
            ]
        )
        == 0
    )
    data = json.loads((tmp_path / "report.json").read_text())
    (video,) = data["videos"]
    assert len(video["frame_scores"]) == 3
    frames = list(iter_frames(short_clip))
    expected = clip_quality_score(frames, load_hyperiqa(eval_aux / "koniq_pretrained.pkl"))
    assert video["quality"] == pytest.approx(expected, rel=1e-5)
    assert data["mean_quality"] == pytest.approx(expected, rel=1e-5)
