"""Run by torchrun in the CPU FSDP test: the tiny SyncNet sharded with torch's FSDP2 over gloo, one
optimizer step, the full state gathered on every rank (a collective), rank 0 writes the checkpoint."""

from __future__ import annotations

import sys

import torch
import torch.distributed as dist
from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict
from torch.distributed.fsdp import fully_shard

from latentsync.models.stable_syncnet import StableSyncNet
from latentsync.train.checkpoints import save_checkpoint
from tests.train.conftest import TINY_SYNCNET_MODEL


def main(out_path: str) -> None:
    dist.init_process_group("gloo")
    torch.manual_seed(0)
    model = StableSyncNet(TINY_SYNCNET_MODEL)
    for encoder in (model.audio_encoder, model.visual_encoder):
        fully_shard(encoder)
    fully_shard(model)
    assert type(next(model.parameters())).__name__ == "DTensor"  # really sharded
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(dist.get_rank())
    vision, audio = model(
        torch.randn(2, 48, 32, 64, generator=generator), torch.randn(2, 1, 80, 52, generator=generator)
    )
    (1 - torch.nn.functional.cosine_similarity(vision, audio)).mean().backward()
    optimizer.step()
    state = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
    if dist.get_rank() == 0:
        save_checkpoint(out_path, state, global_step=1)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
