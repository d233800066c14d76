"""The multi-way ``offsets`` SyncNet objective: loss values, samples against their clip, training."""

from __future__ import annotations

import math

import pytest
import torch

from latentsync.audio.io import load_audio
from latentsync.audio.syncnet_mel import syncnet_melspectrogram
from latentsync.cli import main as cli_main
from latentsync.config import load_config
from latentsync.models.stable_syncnet import StableSyncNet
from latentsync.train.audio_cache import ClipAudio
from latentsync.train.checkpoints import load_checkpoint
from latentsync.train.clips import list_clips
from latentsync.train.losses import offsets_loss, syncnet_visual_input
from latentsync.train.syncnet_dataset import SyncNetDataset
from latentsync.train.syncnet_trainer import SyncNetTrainer
from latentsync.video.reader import read_all_frames

OFFSETS = (-10, -5, 0, 5, 10)


def test_offsets_loss_values():
    k, dim = 5, 8
    audio = torch.zeros(3, dim)
    audio[:, 0] = 1.0
    # every window at cosine 0.5 to its audio: cross-entropy ln K, each BCE term ln 2
    tilted = torch.zeros(3 * k, dim)
    tilted[:, 0], tilted[:, 1] = 0.5, math.sqrt(0.75)
    same = offsets_loss(tilted, audio, k, synced=2)
    assert torch.allclose(same, torch.full((3,), math.log(k) + math.log(2)), atol=1e-5), same
    # synced window equal to the audio, the others orthogonal to it: near-zero loss
    vision = torch.zeros(3 * k, dim)
    vision[:, 0] = 1.0
    aligned = torch.zeros(3, dim)
    aligned[:, 1] = 1.0
    vision[2::k] = aligned
    low = offsets_loss(vision, aligned, k, synced=2)
    assert (low < 1e-3).all(), low
    # the same embeddings with the wrong window named synced: large loss
    assert (offsets_loss(vision, aligned, k, synced=0) > 10).all()


def test_offsets_sample_holds_every_window_of_its_clip(face_clips, tmp_path):
    data = SyncNetDataset(
        face_clips[:1], 64, audio=ClipAudio(tmp_path / "mel"), seed=3, cache_clips=2, offsets=OFFSETS
    )
    frames = torch.from_numpy(read_all_frames(face_clips[0])).permute(0, 3, 1, 2).float() / 127.5 - 1
    mel = torch.from_numpy(syncnet_melspectrogram(load_audio(face_clips[0])))
    for index in range(3):
        sample = data[index]
        assert sample["frames"].shape == (len(OFFSETS), 16, 3, 64, 64)
        assert int(sample["y"]) == OFFSETS.index(0)
        synced = sample["frames"][OFFSETS.index(0)]
        starts = [s for s in range(len(frames) - 15) if torch.allclose(frames[s : s + 16], synced, atol=1e-5)]
        assert len(starts) == 1
        start = starts[0]
        for window, offset in zip(sample["frames"], OFFSETS):
            assert torch.allclose(window, frames[start + offset : start + offset + 16], atol=1e-5)
        step = int(80 * start / 25)
        assert torch.equal(sample["audio_samples"][0], mel[:, step : step + 52])


def test_offsets_must_name_the_synced_window(face_clips, tmp_path):
    with pytest.raises(ValueError, match="must include 0"):
        SyncNetDataset(face_clips[:1], 64, audio=ClipAudio(tmp_path / "mel"), offsets=(-5, 5))


def fixed_batch_loss(config, checkpoint) -> float:
    """Mean offsets loss of a checkpoint on the (fixed) four training items."""
    state, _, _ = load_checkpoint(checkpoint)
    model = StableSyncNet(config.model)
    model.load_state_dict(state)  # strict: same layout as the pairs objective
    data = SyncNetDataset(
        list_clips(config.data.train_fileslist), 64, seed=int(config.run.seed), length=4, offsets=OFFSETS
    )
    items = [data[i] for i in range(4)]
    frames = torch.stack([b["frames"] for b in items]).flatten(0, 1)
    mel = torch.stack([b["audio_samples"] for b in items])
    with torch.no_grad():
        vision, audio = model(syncnet_visual_input(frames, lower_half=True), mel)
    return offsets_loss(vision, audio, len(OFFSETS), OFFSETS.index(0)).mean().item()


def test_syncnet_trains_with_the_offsets_objective(syncnet_config, tmp_path):
    overrides = [
        "run.sync_objective=offsets",
        f"data.sync_offsets=[{','.join(str(o) for o in OFFSETS)}]",
        "run.max_train_steps=8",
        "ckpt.save_ckpt_steps=8",
    ]
    config = load_config(syncnet_config, "syncnet", overrides)
    result = SyncNetTrainer(config).train()
    losses = result.history.train_loss
    assert len(losses) == 8 and all(math.isfinite(v) for v in losses)
    after = fixed_batch_loss(config, tmp_path / "out" / "checkpoints" / "checkpoint-8.pt")
    # every step trains on the same four items: their loss falls well below the first step's
    assert after < losses[0] - 0.1, (losses[0], after, losses)
    assert result.history.val_steps == [5]  # validation still scores synced / shifted pairs


def test_unknown_objective_is_one_clear_error(syncnet_config, tmp_path, capsys):
    code = cli_main(
        ["train", "syncnet", "--config", str(syncnet_config), "--set", "run.sync_objective=triplet"]
    )
    assert code == 2
    assert "run.sync_objective must be 'pairs' or 'offsets'" in capsys.readouterr().err
