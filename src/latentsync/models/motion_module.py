"""AnimateDiff-style motion modules: attention along the frame axis at every pixel.

LatentSync 1.5/1.6 (stage2 configs) carry them; stage1 has none. The output projection
starts at zero so a freshly added module is an identity.
"""

from __future__ import annotations

import math

import torch
from diffusers.models.attention import FeedForward
from torch import nn

from latentsync.models.attention3d import Attention
from latentsync.models.resnet3d import batch_to_frames, frames_to_batch, tokens_to_maps


def sinusoidal_table(max_len: int, dim: int) -> torch.Tensor:
    """[1, max_len, dim] with sin on even and cos on odd channels."""
    position = torch.arange(max_len, dtype=torch.float32).unsqueeze(1)
    freq = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    table = torch.zeros(1, max_len, dim)
    table[0, :, 0::2] = torch.sin(position * freq)
    table[0, :, 1::2] = torch.cos(position * freq)
    return table


class PositionalEncoding(nn.Module):
    """Adds a frame-index table; ``pe`` is persistent because the checkpoints carry it."""

    def __init__(self, dim: int, max_len: int = 24):
        super().__init__()
        self.register_buffer("pe", sinusoidal_table(max_len, dim), persistent=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] > self.pe.shape[1]:
            raise ValueError(f"{x.shape[1]} frames exceed the motion modules' maximum of {self.pe.shape[1]}")
        return x + self.pe[:, : x.shape[1]].to(x.dtype)


CUDA_GRID_LIMIT = 65535  # CUDA's largest grid y/z size; fused attention kernels put the batch there
CUDA_SEQUENCES_PER_CALL = 32768  # below the limit, and an even split of 64 x 64 latent grids


class TemporalAttention(Attention):
    """Self-attention across frames: tokens are regrouped so each pixel sees its own history.

    The batch is one sequence per pixel (b x 64 x 64 x chunks at 512 px), which passes CUDA's grid
    limit with a few chunks per call; on CUDA it goes through the kernel in slices below the limit.
    Sequences are independent, so the slices give the same numbers as one call (only the attention kernel is sliced).
    """

    max_sequences: int | None = None  # sequences per attention call; None: below the grid limit on CUDA

    def _sequences_per_call(self, x: torch.Tensor) -> int | None:
        if self.max_sequences is not None:
            return self.max_sequences
        return CUDA_SEQUENCES_PER_CALL if x.is_cuda else None

    def _attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """Only the fused kernel is sliced (the projections see the whole batch, as without slicing)."""
        per_call = self._sequences_per_call(q)
        if per_call is None or q.shape[0] <= per_call:
            return super()._attend(q, k, v)
        parts = zip(q.split(per_call), k.split(per_call), v.split(per_call))
        return torch.cat([Attention._attend(self, *part) for part in parts])

    def __init__(self, dim: int, heads: int, dim_head: int, position_encoding: bool, max_len: int):
        super().__init__(dim, None, heads, dim_head)
        self.pos_encoder = PositionalEncoding(dim, max_len) if position_encoding else None

    def forward(self, hidden_states: torch.Tensor, num_frames: int) -> torch.Tensor:
        bf, s, c = hidden_states.shape
        b = bf // num_frames
        x = hidden_states.reshape(b, num_frames, s, c).transpose(1, 2).reshape(b * s, num_frames, c)
        if self.pos_encoder is not None:
            x = self.pos_encoder(x)
        x = super().forward(x)
        return x.reshape(b, s, num_frames, c).transpose(1, 2).reshape(bf, s, c)


class TemporalTransformerBlock(nn.Module):
    def __init__(
        self,
        dim: int,
        num_attention_heads: int,
        attention_head_dim: int,
        attention_block_types: tuple[str, ...],
        position_encoding: bool,
        max_len: int,
    ):
        super().__init__()
        for kind in attention_block_types:
            if kind != "Temporal_Self":
                raise ValueError(f"unsupported motion attention block '{kind}' (only Temporal_Self)")
        self.attention_blocks = nn.ModuleList(
            TemporalAttention(dim, num_attention_heads, attention_head_dim, position_encoding, max_len)
            for _ in attention_block_types
        )
        self.norms = nn.ModuleList(nn.LayerNorm(dim) for _ in attention_block_types)
        self.ff = FeedForward(dim, activation_fn="geglu")
        self.ff_norm = nn.LayerNorm(dim)

    def forward(self, hidden_states: torch.Tensor, num_frames: int) -> torch.Tensor:
        for attention, norm in zip(self.attention_blocks, self.norms):
            hidden_states = attention(norm(hidden_states), num_frames) + hidden_states
        return self.ff(self.ff_norm(hidden_states)) + hidden_states


class TemporalTransformer3DModel(nn.Module):
    def __init__(
        self,
        in_channels: int,
        num_attention_heads: int,
        attention_head_dim: int,
        num_layers: int,
        attention_block_types: tuple[str, ...],
        position_encoding: bool,
        max_len: int,
        norm_num_groups: int = 32,
    ):
        super().__init__()
        inner_dim = num_attention_heads * attention_head_dim
        self.norm = nn.GroupNorm(num_groups=norm_num_groups, num_channels=in_channels, eps=1e-6, affine=True)
        self.proj_in = nn.Linear(in_channels, inner_dim)
        self.transformer_blocks = nn.ModuleList(
            TemporalTransformerBlock(
                inner_dim,
                num_attention_heads,
                attention_head_dim,
                attention_block_types,
                position_encoding,
                max_len,
            )
            for _ in range(num_layers)
        )
        self.proj_out = nn.Linear(inner_dim, in_channels)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        num_frames = hidden_states.shape[2]
        x = frames_to_batch(hidden_states)
        residual = x
        bf, c, h, w = x.shape
        x = self.norm(x).permute(0, 2, 3, 1).reshape(bf, h * w, c)
        x = self.proj_in(x)
        for block in self.transformer_blocks:
            x = block(x, num_frames)
        x = tokens_to_maps(self.proj_out(x), h, w, like=residual)
        return batch_to_frames(x + residual, num_frames)


class VanillaTemporalModule(nn.Module):
    def __init__(
        self,
        in_channels: int,
        num_attention_heads: int = 8,
        num_transformer_block: int = 2,
        attention_block_types: tuple[str, ...] = ("Temporal_Self", "Temporal_Self"),
        temporal_position_encoding: bool = False,
        temporal_position_encoding_max_len: int = 24,
        temporal_attention_dim_div: int = 1,
        zero_initialize: bool = True,
        cross_frame_attention_mode: str | None = None,
    ):
        super().__init__()
        if cross_frame_attention_mode is not None:
            raise ValueError("cross_frame_attention_mode is not supported")
        self.temporal_transformer = TemporalTransformer3DModel(
            in_channels=in_channels,
            num_attention_heads=num_attention_heads,
            attention_head_dim=in_channels // num_attention_heads // temporal_attention_dim_div,
            num_layers=num_transformer_block,
            attention_block_types=tuple(attention_block_types),
            position_encoding=temporal_position_encoding,
            max_len=temporal_position_encoding_max_len,
        )
        if zero_initialize:
            nn.init.zeros_(self.temporal_transformer.proj_out.weight)
            nn.init.zeros_(self.temporal_transformer.proj_out.bias)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.temporal_transformer(hidden_states)


def get_motion_module(in_channels: int, motion_module_type: str, motion_module_kwargs: dict) -> nn.Module:
    if motion_module_type != "Vanilla":
        raise ValueError(f"unknown motion_module_type '{motion_module_type}' (only 'Vanilla')")
    return VanillaTemporalModule(in_channels, **dict(motion_module_kwargs or {}))
