"""benchmarks/unet_learning.py on a folder of clips: split, trainer steps, held-out table."""

from __future__ import annotations

import re

from benchmarks import unet_learning
from tests.train.face_clips import write_face_clips


def test_unet_learning_prints_curve_and_held_out_score(tmp_path, tiny_models, capsys):
    clips = write_face_clips(tmp_path / "clips", resolution=64, clip_frames=130, count=2)
    unet_learning.main(
        [
            "--clips",
            str(clips[0].parent),
            "--work",
            str(tmp_path / "work"),
            "--vae",
            str(tiny_models / "vae"),
            "--whisper",
            str(tiny_models / "whisper_tiny.pt"),
            "--set",
            "data.resolution=64",
            "--max-steps",
            "2",
            "--eval-samples",
            "2",
            "--eval-every",
            "1000",
        ]
    )
    out = capsys.readouterr().out
    # fewer than 5 clips: each clip's last 30% is held out
    held = sorted(p.name for p in (tmp_path / "work" / "split").iterdir())
    assert held == ["clip0_held.mp4", "clip0_train.mp4", "clip1_held.mp4", "clip1_train.mp4"]
    rows = [line.split() for line in out.splitlines() if re.match(r"\s+\d+\s+\d", line)]
    assert [int(r[0]) for r in rows] == [0, 2]  # evaluated before training and at the end
    assert rows[0][2] == "nan" and float(rows[1][2]) > 0  # train loss of the two steps
    mse, shifted, gain, two_alt = (float(v) for v in rows[1][3:7])
    assert mse > 0 and shifted > 0 and abs(gain - (shifted - mse)) < 1e-4 and two_alt in (0.0, 0.5, 1.0)
    assert "final held-out mse" in out and "after 2 steps" in out
