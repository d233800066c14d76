"""Two CPU processes (torchrun + gloo) train SyncNet together and hold identical weights after a step."""

from __future__ import annotations

import torch

from latentsync.models.stable_syncnet import StableSyncNet
from tests.train.conftest import TINY_SYNCNET_MODEL
from tests.train.launch import run_two_ranks


def test_two_processes_agree_after_a_step(syncnet_config, tmp_path):
    proc = run_two_ranks(
        "tests.train.two_process_worker", str(syncnet_config), str(tmp_path), port=29517, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    rank0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    rank1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    assert rank0["world"] == rank1["world"] == 2
    torch.manual_seed(42)  # the trainer seeds rank 0 with run.seed before building the model
    initial = StableSyncNet(TINY_SYNCNET_MODEL).state_dict()
    changed = 0
    for key, value in rank0["state"].items():
        assert torch.equal(value, rank1["state"][key]), key
        changed += not torch.equal(value, initial[key])
    assert changed > 0  # a step happened
