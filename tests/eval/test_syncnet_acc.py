"""``eval syncnet-acc``: how pairs are drawn, and a run with a small StableSyncNet config."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import torch
import yaml

from latentsync.cli import main
from latentsync.config import load_config
from latentsync.eval.syncnet_accuracy import ClipCache, draw_sample, mel_window_length, to_model_frames
from latentsync.models.stable_syncnet import StableSyncNet
from tests.eval.clips import face_clip_256

SMALL_MODEL = {
    "audio_encoder": {
        "in_channels": 1,
        "block_out_channels": [32, 32, 32, 32, 32, 32, 64],
        "downsample_factors": [[2, 1], 2, 2, 1, 2, 2, [2, 3]],
        "attn_blocks": [0, 0, 0, 0, 0, 0, 0],
        "dropout": 0.0,
    },
    "visual_encoder": {
        "in_channels": 48,
        "block_out_channels": [32, 32, 32, 32, 32, 32, 32, 64],
        "downsample_factors": [[1, 2], 2, 2, 2, 2, 2, 2, 2],
        "attn_blocks": [0, 0, 0, 0, 0, 0, 0, 0],
        "dropout": 0.0,
    },
}


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return face_clip_256(tmp_path_factory.mktemp("acc") / "clip.mp4", count=40)


def test_drawn_pairs_follow_the_label(clip):
    config = load_config("syncnet_16_pixel_attn", "syncnet")
    cache = ClipCache()
    frames, mel = cache.frames_and_mel(clip)
    starts = range(len(frames) - 16 + 1)
    candidates = {s: to_model_frames(frames[s : s + 16], 256, True) for s in starts}
    rng = random.Random(3)
    labels = []
    for _ in range(12):
        chosen, mel_window, label = draw_sample(rng, [clip], cache, config.data)
        assert chosen.shape == (48, 128, 256) and mel_window.shape == (1, 80, mel_window_length(16)) == (
            1,
            80,
            52,
        )
        assert -1 <= float(chosen.min()) and float(chosen.max()) <= 1
        frame_start = next(s for s, c in candidates.items() if torch.equal(c, chosen))
        mel_starts = [
            s
            for s in starts
            if np.array_equal(mel[:, int(80 * s / 25) : int(80 * s / 25) + 52], mel_window[0].numpy())
        ]
        assert (frame_start in mel_starts) == bool(label)
        labels.append(label)
    assert 0 < sum(labels) < len(labels)


def test_command_reports_accuracy(clip, tmp_path):
    config_path = tmp_path / "small_syncnet.yaml"
    config_path.write_text(
        yaml.safe_dump(
            {
                "model": SMALL_MODEL,
                "data": {
                    "num_val_samples": 6,
                    "batch_size": 3,
                    "latent_space": False,
                    "num_frames": 16,
                    "resolution": 256,
                    "lower_half": True,
                    "audio_sample_rate": 16000,
                    "video_fps": 25,
                },
                "run": {"seed": 42},
            }
        )
    )
    torch.manual_seed(0)
    checkpoint = tmp_path / "small.pt"
    torch.save({"state_dict": StableSyncNet(SMALL_MODEL).state_dict(), "global_step": 0}, checkpoint)
    fileslist = tmp_path / "fileslist.txt"
    fileslist.write_text(f"{clip}\n")
    report = tmp_path / "report"
    argv = [
        "eval",
        "syncnet-acc",
        "--config",
        str(config_path),
        "--checkpoint",
        str(checkpoint),
        "--fileslist",
        str(fileslist),
        "--report-dir",
        str(report),
    ]
    assert main(argv) == 0
    data = json.loads((report / "report.json").read_text())
    assert data["total"] == 6 and data["positives"] + data["negatives"] == 6
    assert data["correct"] == data["true_positives"] + data["true_negatives"]
    assert data["accuracy"] == pytest.approx(data["correct"] / 6)
    assert main(argv + ["--report-dir", str(tmp_path / "again")]) == 0  # seeded: same draws, same result
    assert json.loads((tmp_path / "again" / "report.json").read_text()) == data
