"""Building blocks of StableSyncNet's two encoders (key names as in the published checkpoint)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
import torch.utils.checkpoint
from diffusers.models.attention import FeedForward
from torch import nn

from latentsync.models.attention3d import Attention

Factor = int | Sequence[int]


def _as_factor(factor: Factor) -> int | tuple[int, int]:
    """Config lists like ``[2, 1]`` become hashable (height, width) strides."""
    if isinstance(factor, int):
        return factor
    values = tuple(int(v) for v in factor)
    if len(values) != 2:
        raise ValueError(f"downsample factor must be an int or [h, w], got {factor!r}")
    return values


def _downsample_padding(factor: int | tuple[int, int]) -> tuple[int, int, int, int]:
    """Zero padding (left, right, top, bottom) before the stride-``factor`` 3x3 conv.

    Strided axes get one extra row/column at the far end only; an axis with stride 1
    is padded on both sides so its length is preserved.
    """
    if isinstance(factor, tuple):
        if factor[0] == 1:
            return (0, 1, 1, 1)
        if factor[1] == 1:
            return (1, 1, 0, 1)
    return (0, 1, 0, 1)


class SyncResnetBlock(nn.Module):
    """Pre-activation residual block with an optional strided conv at its end."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        downsample_factor: Factor = 2,
        norm_num_groups: int = 32,
        dropout: float = 0.0,
        act_fn: str = "silu",
    ):
        super().__init__()
        self.norm1 = nn.GroupNorm(norm_num_groups, in_channels, eps=1e-6)
        self.conv1 = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1)
        self.norm2 = nn.GroupNorm(norm_num_groups, out_channels, eps=1e-6)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1)
        self.act = nn.ReLU() if act_fn == "relu" else nn.SiLU()
        self.conv_shortcut = (
            nn.Conv2d(in_channels, out_channels, kernel_size=1) if in_channels != out_channels else None
        )
        factor = _as_factor(downsample_factor)
        if factor == 1 or factor == (1, 1):
            self.downsample_conv = None
            self.pad = (0, 0, 0, 0)
        else:
            self.downsample_conv = nn.Conv2d(
                out_channels, out_channels, kernel_size=3, stride=factor, padding=0
            )
            self.pad = _downsample_padding(factor)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(self.act(self.norm1(x)))
        h = self.conv2(self.dropout(self.act(self.norm2(h))))
        shortcut = self.conv_shortcut(x) if self.conv_shortcut is not None else x
        h = h + shortcut
        if self.downsample_conv is not None:
            h = self.downsample_conv(F.pad(h, self.pad, mode="constant", value=0.0))
        return h


class SelfAttention(Attention):
    """The UNet's attention as self-attention with biased q/k/v (the same ``to_q``/``to_k``/``to_v``/``to_out.0``)."""

    def __init__(self, dim: int, heads: int = 8, dropout: float = 0.0):
        if dim % heads:
            raise ValueError(f"attention width {dim} is not divisible by {heads} heads")
        super().__init__(dim, heads=heads, dim_head=dim // heads, dropout=dropout, bias=True)


class SyncAttentionBlock(nn.Module):
    """Spatial transformer block (self-attention + GEGLU feed-forward) wrapped in 1x1 convs."""

    def __init__(self, dim: int, norm_num_groups: int = 32, dropout: float = 0.0):
        super().__init__()
        self.norm1 = nn.GroupNorm(norm_num_groups, dim, eps=1e-6)
        self.norm2 = nn.LayerNorm(dim)
        self.norm3 = nn.LayerNorm(dim)
        self.ff = FeedForward(dim, dropout=dropout, activation_fn="geglu")
        self.conv_in = nn.Conv2d(dim, dim, kernel_size=1)
        self.conv_out = nn.Conv2d(dim, dim, kernel_size=1)
        self.attn = SelfAttention(dim, heads=8, dropout=dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, channels, height, width = x.shape
        h = self.conv_in(self.norm1(x))
        tokens = h.flatten(2).transpose(1, 2)  # b (h w) c
        tokens = self.attn(self.norm2(tokens)) + tokens
        tokens = self.ff(self.norm3(tokens)) + tokens
        h = tokens.transpose(1, 2).reshape(batch, channels, height, width)
        return self.conv_out(h) + x


class DownEncoder(nn.Module):
    """Stack of downsampling residual blocks (plus optional attention) ending in GroupNorm + ReLU."""

    def __init__(
        self,
        in_channels: int,
        block_out_channels: Sequence[int],
        downsample_factors: Sequence[Factor],
        attn_blocks: Sequence[int],
        dropout: float = 0.0,
        norm_num_groups: int = 32,
        act_fn: str = "silu",
    ):
        super().__init__()
        n = len(block_out_channels)
        if len(downsample_factors) != n or len(attn_blocks) != n:
            raise ValueError(
                "block_out_channels, downsample_factors and attn_blocks need one entry per block "
                f"(got {n}, {len(downsample_factors)}, {len(attn_blocks)})"
            )
        self.conv_in = nn.Conv2d(in_channels, block_out_channels[0], kernel_size=3, padding=1)
        self.down_blocks = nn.ModuleList()
        channels = block_out_channels[0]
        for out_channels, factor, with_attn in zip(
            block_out_channels, downsample_factors, attn_blocks, strict=True
        ):
            self.down_blocks.append(
                SyncResnetBlock(channels, out_channels, factor, norm_num_groups, dropout, act_fn)
            )
            channels = out_channels
            if int(with_attn) == 1:
                self.down_blocks.append(SyncAttentionBlock(channels, norm_num_groups, dropout))
        self.norm_out = nn.GroupNorm(norm_num_groups, channels, eps=1e-6)
        self.act_out = nn.ReLU()
        self.gradient_checkpointing = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv_in(x)
        for block in self.down_blocks:
            if self.gradient_checkpointing and torch.is_grad_enabled():
                h = torch.utils.checkpoint.checkpoint(block, h, use_reentrant=False)
            else:
                h = block(h)
        return self.act_out(self.norm_out(h))
