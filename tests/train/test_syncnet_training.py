"""SyncNet training on tiny configs: learning, checkpoints, exact resume, CLI."""

from __future__ import annotations

from pathlib import Path

import torch

from latentsync.cli import main as cli_main
from latentsync.config import load_config
from latentsync.models.stable_syncnet import StableSyncNet
from latentsync.train.checkpoints import load_checkpoint, sidecar_path
from latentsync.train.clips import list_clips
from latentsync.train.losses import cosine_loss, syncnet_visual_input
from latentsync.train.syncnet_dataset import SyncNetDataset
from latentsync.train.syncnet_trainer import SyncNetTrainer


def training_set_loss(config, checkpoint) -> float:
    """Mean loss of a checkpoint on the (fixed) four training samples."""
    state, _, _ = load_checkpoint(checkpoint)
    model = StableSyncNet(config.model)
    model.load_state_dict(state)
    data = SyncNetDataset(list_clips(config.data.train_fileslist), 64, seed=int(config.run.seed), length=4)
    items = [data[i] for i in range(4)]
    frames = syncnet_visual_input(torch.stack([b["frames"] for b in items]), lower_half=True)
    mel = torch.stack([b["audio_samples"] for b in items])
    y = torch.stack([b["y"] for b in items])
    with torch.no_grad():
        vision, audio = model(frames, mel)
    return cosine_loss(vision, audio, y).mean().item()


def test_syncnet_trains_saves_and_resumes_exactly(syncnet_config, tmp_path):
    out = tmp_path / "out"
    config = load_config(syncnet_config, "syncnet")
    full = SyncNetTrainer(config).train()
    losses = full.history.train_loss
    assert full.global_step == 10 and len(losses) == 10
    ckpts = out / "checkpoints"
    # every step trains on the same four samples: the loss on them after ten updates is well below
    # the first step's loss, taken before any update (step-to-step values wobble with the CPU's
    # thread count, this gap does not)
    before = losses[0]
    after = training_set_loss(config, ckpts / "checkpoint-10.pt")
    assert after < before - 0.08, (before, after, losses)
    for step in (3, 6):
        ckpt = ckpts / f"checkpoint-{step}.pt"
        state, saved_step, sidecar = load_checkpoint(ckpt)
        assert saved_step == step and sidecar is not None and sidecar["global_step"] == step
        assert set(torch.load(ckpt, weights_only=True)) == {"state_dict", "global_step"}
        assert sidecar_path(ckpt).is_file()
    assert (out / "loss_chart.png").stat().st_size > 1000
    assert list((out / "logs").rglob("events.out.tfevents*"))
    assert full.history.val_steps == [5, 10]

    resumed_cfg = load_config(
        syncnet_config,
        "syncnet",
        [
            f"ckpt.resume_ckpt_path={ckpts / 'checkpoint-6.pt'}",
            f"data.train_output_dir={tmp_path / 'resumed'}",
        ],
    )
    resumed = SyncNetTrainer(resumed_cfg).train()
    assert resumed.history.train_steps[-4:] == [7, 8, 9, 10]
    assert torch.allclose(
        torch.tensor(resumed.history.train_loss[-4:]), torch.tensor(losses[-4:]), rtol=0, atol=1e-6
    ), (
        resumed.history.train_loss,
        losses,
    )


def _train_syncnet_cli(config: Path, *overrides: str) -> int:
    """``latentsync train syncnet --config CONFIG --set KEY=VALUE ...``; its exit status."""
    return cli_main(
        ["train", "syncnet", "--config", str(config), *(a for kv in overrides for a in ("--set", kv))]
    )


def test_syncnet_cli_with_overrides(syncnet_config, tmp_path):
    out = tmp_path / "cli_out"
    code = _train_syncnet_cli(
        syncnet_config,
        "run.max_train_steps=2",
        f"data.train_output_dir={out}",
        "ckpt.save_ckpt_steps=2",
        "run.validation_steps=0",
    )
    assert code == 0
    state, step, _ = load_checkpoint(out / "checkpoints" / "checkpoint-2.pt")
    assert step == 2 and "visual_encoder.conv_in.weight" in state


def test_missing_training_data_is_one_clear_error(syncnet_config, tmp_path, capsys):
    code = _train_syncnet_cli(
        syncnet_config,
        "data.train_fileslist=",
        "data.train_data_dir=",
        f"data.train_output_dir={tmp_path / 'x'}",
    )
    assert code == 2
    assert "data.train_fileslist or data.train_data_dir" in capsys.readouterr().err
