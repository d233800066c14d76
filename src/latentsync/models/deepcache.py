"""DeepCache for the UNet3D: reuse the deep features between denoising steps.

Same schedule and branch as the original's ``DeepCacheSDHelper`` with
``set_params(cache_interval=3, cache_branch_id=0)``: steps 0, 3, 6, ... of each chunk run the
whole UNet and keep the input of the last layer of the last up block; the steps in between run
only ``conv_in``, that last layer (resnet on [cached, conv_in output], spatial/audio
transformer, motion module) and the output head. The helper also skipped all of down block 0
on those steps, so the shallow branch here consists of exactly these modules.
"""

from __future__ import annotations

import logging

import torch

from latentsync.models.unet import UNet3DConditionModel

logger = logging.getLogger(__name__)


class DeepCache:
    """Step-counting cache attached to a UNet; ``reset()`` at the start of every chunk.

    Use as a context manager (``with DeepCache(unet): ...``) or with ``enable()``/``disable()``.
    Each UNet call is one denoising step (classifier-free guidance must be batched).
    """

    def __init__(self, unet: UNet3DConditionModel, cache_interval: int = 3, cache_branch_id: int = 0):
        if cache_interval < 1:
            raise ValueError("cache_interval must be >= 1")
        if cache_branch_id != 0:
            raise ValueError("only cache_branch_id=0 (the original's setting) is implemented")
        self.unet = unet
        self.cache_interval = cache_interval
        self.cache_branch_id = cache_branch_id
        self.step = 0
        self.full_steps = 0
        self.cached_steps = 0
        self._deep: torch.Tensor | None = None

    def reset(self) -> None:
        """Forget the cached features; the next call is a full step."""
        self.step = 0
        self._deep = None

    def enable(self) -> DeepCache:
        if self.unet.deep_cache is not None and self.unet.deep_cache is not self:
            raise RuntimeError("another DeepCache is already attached to this UNet")
        self.reset()
        self.unet.deep_cache = self
        return self

    def disable(self) -> None:
        if self.unet.deep_cache is self:
            self.unet.deep_cache = None
        self.reset()

    def __enter__(self) -> DeepCache:
        return self.enable()

    def __exit__(self, *exc) -> None:
        self.disable()

    def _is_full_step(self, sample: torch.Tensor) -> bool:
        if self._deep is None or self.step % self.cache_interval == 0:
            return True
        deep = self._deep
        # A different chunk shape (e.g. the shorter last chunk) cannot reuse the cache.
        return (
            deep.shape[0] != sample.shape[0]
            or deep.shape[2:] != sample.shape[2:]
            or deep.device != sample.device
        )

    def run(
        self,
        unet: UNet3DConditionModel,
        sample: torch.Tensor,
        emb: torch.Tensor,
        encoder_hidden_states: torch.Tensor | None,
    ) -> torch.Tensor:
        """Called by ``UNet3DConditionModel.forward`` with the ``conv_in`` output."""
        if self._is_full_step(sample):
            if self.step % self.cache_interval != 0:
                logger.debug("DeepCache: input shape changed at step %d, recomputing", self.step)
            self._deep = unet.deep_branch(sample, emb, encoder_hidden_states)
            self.full_steps += 1
        else:
            self.cached_steps += 1
        self.step += 1
        return unet.shallow_branch(self._deep, sample, emb, encoder_hidden_states)
