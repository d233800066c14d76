"""Two CPU processes shard the tiny SyncNet with torch's FSDP2 (gloo) and write a training checkpoint:
the same keys and shapes as a single-process checkpoint, loading strictly into a fresh model.

Accelerate's FSDP plugin does not run on CPU (see docs/training.md), so this drives torch's FSDP
directly; what it checks is that gathered FSDP state goes through our checkpoint writer intact."""

from __future__ import annotations

import torch

from latentsync.models.stable_syncnet import StableSyncNet
from latentsync.train.checkpoints import load_checkpoint, save_checkpoint
from tests.train.conftest import TINY_SYNCNET_MODEL
from tests.train.launch import run_two_ranks


def test_fsdp_checkpoint_matches_a_single_process_one(tmp_path):
    fsdp_path = tmp_path / "fsdp" / "checkpoint-1.pt"
    proc = run_two_ranks("tests.train.fsdp_checkpoint_worker", str(fsdp_path), port=29571, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]

    torch.manual_seed(0)  # the workers' initial weights
    single = StableSyncNet(TINY_SYNCNET_MODEL)
    single_path = save_checkpoint(tmp_path / "single" / "checkpoint-1.pt", single.state_dict(), global_step=1)
    fsdp_state, fsdp_step, _ = load_checkpoint(fsdp_path)
    single_state, single_step, _ = load_checkpoint(single_path)

    assert fsdp_step == single_step == 1
    assert list(fsdp_state) == list(single_state)
    for key, value in single_state.items():
        assert type(fsdp_state[key]) is torch.Tensor, key  # full tensors, not DTensor shards
        assert (fsdp_state[key].shape, fsdp_state[key].dtype) == (value.shape, value.dtype), key
    fresh = StableSyncNet(TINY_SYNCNET_MODEL)
    fresh.load_state_dict(fsdp_state, strict=True)
    changed = sum(not torch.equal(fsdp_state[k], single_state[k]) for k in single_state)
    assert changed > 0  # the step happened and the trained (gathered) weights were written
