"""Run by torchrun in the two-process test: one SyncNet step per rank, then each rank saves its weights."""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from latentsync.config import load_config
from latentsync.train.syncnet_trainer import SyncNetTrainer


def main(config_path: str, out_dir: str) -> None:
    config = load_config(
        config_path, "syncnet", ["run.max_train_steps=1", "run.validation_steps=0", "ckpt.save_ckpt_steps=0"]
    )
    trainer = SyncNetTrainer(config)
    trainer.train()
    rank = trainer.accelerator.process_index
    model = trainer.accelerator.unwrap_model(trainer.last_model)
    torch.save(
        {"state": model.state_dict(), "world": trainer.accelerator.num_processes},
        Path(out_dir) / f"rank{rank}.pt",
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
