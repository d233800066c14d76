"""Deterministic sample indices: item ``i`` of a dataset is a pure function of (seed, i).

Every rank reads its own slice of one global index stream, so a run resumed at step ``s``
sees exactly the batches the uninterrupted run would have seen.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from torch.utils.data import Sampler


def item_rng(seed: int, index: int) -> random.Random:
    return random.Random(seed * 1_000_003 + index)


class StepBatchSampler(Sampler[list[int]]):
    """Batches of indices for steps ``start_step, start_step + 1, ...`` on one rank, endlessly."""

    def __init__(self, batch_size: int, rank: int = 0, world_size: int = 1, start_step: int = 0):
        self.batch_size = batch_size
        self.rank = rank
        self.world_size = world_size
        self.start_step = start_step

    def batch_indices(self, step: int) -> list[int]:
        first = (step * self.world_size + self.rank) * self.batch_size
        return list(range(first, first + self.batch_size))

    def __iter__(self) -> Iterator[list[int]]:
        step = self.start_step
        while True:
            yield self.batch_indices(step)
            step += 1
