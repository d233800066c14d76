"""Spatial transformer of the UNet: per-frame self-attention, then cross-attention to audio.

The audio features arrive per frame ([B*F, 50, 384]), so frame ``b*F + f`` of the video
attends only to its own audio window.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from diffusers.models.attention import FeedForward
from torch import nn

from latentsync.models.resnet3d import batch_to_frames, frames_to_batch, tokens_to_maps


class Attention(nn.Module):
    """Multi-head attention with the SD key layout (``to_q/to_k/to_v/to_out.0``)."""

    def __init__(
        self,
        query_dim: int,
        cross_attention_dim: int | None = None,
        heads: int = 8,
        dim_head: int = 64,
        dropout: float = 0.0,
        bias: bool = False,
    ):
        super().__init__()
        inner_dim = heads * dim_head
        context_dim = cross_attention_dim if cross_attention_dim is not None else query_dim
        self.heads = heads
        self.to_q = nn.Linear(query_dim, inner_dim, bias=bias)
        self.to_k = nn.Linear(context_dim, inner_dim, bias=bias)
        self.to_v = nn.Linear(context_dim, inner_dim, bias=bias)
        self.to_out = nn.ModuleList([nn.Linear(inner_dim, query_dim), nn.Dropout(dropout)])

    def _split_heads(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        return x.reshape(b, n, self.heads, d // self.heads).transpose(1, 2)

    def _attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return F.scaled_dot_product_attention(q, k, v)

    def forward(self, hidden_states: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        context = hidden_states if context is None else context
        q = self._split_heads(self.to_q(hidden_states))
        k = self._split_heads(self.to_k(context))
        v = self._split_heads(self.to_v(context))
        out = self._attend(q, k, v)
        b, h, n, d = out.shape
        out = out.transpose(1, 2).reshape(b, n, h * d)
        return self.to_out[1](self.to_out[0](out))


class BasicTransformerBlock(nn.Module):
    """Self-attention, optional audio cross-attention and a GEGLU feed-forward, each pre-norm."""

    def __init__(
        self,
        dim: int,
        num_attention_heads: int,
        attention_head_dim: int,
        cross_attention_dim: int | None,
        dropout: float = 0.0,
        add_audio_layer: bool = False,
        attention_bias: bool = False,
    ):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn1 = Attention(dim, None, num_attention_heads, attention_head_dim, dropout, attention_bias)
        self.attn2 = None
        if add_audio_layer:
            self.norm2 = nn.LayerNorm(dim)
            self.attn2 = Attention(
                dim, cross_attention_dim, num_attention_heads, attention_head_dim, dropout, attention_bias
            )
        self.ff = FeedForward(dim, dropout=dropout, activation_fn="geglu")
        self.norm3 = nn.LayerNorm(dim)

    def forward(
        self, hidden_states: torch.Tensor, encoder_hidden_states: torch.Tensor | None
    ) -> torch.Tensor:
        hidden_states = self.attn1(self.norm1(hidden_states)) + hidden_states
        if self.attn2 is not None and encoder_hidden_states is not None:
            hidden_states = self.attn2(self.norm2(hidden_states), encoder_hidden_states) + hidden_states
        return self.ff(self.norm3(hidden_states)) + hidden_states


class Transformer3DModel(nn.Module):
    """Group norm + 1x1 projection around transformer blocks, applied to each frame."""

    def __init__(
        self,
        num_attention_heads: int,
        attention_head_dim: int,
        in_channels: int,
        num_layers: int = 1,
        norm_num_groups: int = 32,
        cross_attention_dim: int | None = None,
        use_linear_projection: bool = False,
        add_audio_layer: bool = False,
        dropout: float = 0.0,
    ):
        super().__init__()
        inner_dim = num_attention_heads * attention_head_dim
        self.use_linear_projection = use_linear_projection
        self.norm = nn.GroupNorm(num_groups=norm_num_groups, num_channels=in_channels, eps=1e-6, affine=True)
        if use_linear_projection:
            self.proj_in = nn.Linear(in_channels, inner_dim)
            self.proj_out = nn.Linear(inner_dim, in_channels)
        else:
            self.proj_in = nn.Conv2d(in_channels, inner_dim, kernel_size=1)
            self.proj_out = nn.Conv2d(inner_dim, in_channels, kernel_size=1)
        self.transformer_blocks = nn.ModuleList(
            BasicTransformerBlock(
                inner_dim,
                num_attention_heads,
                attention_head_dim,
                cross_attention_dim,
                dropout=dropout,
                add_audio_layer=add_audio_layer,
            )
            for _ in range(num_layers)
        )

    def forward(
        self, hidden_states: torch.Tensor, encoder_hidden_states: torch.Tensor | None = None
    ) -> torch.Tensor:
        num_frames = hidden_states.shape[2]
        if encoder_hidden_states is not None and encoder_hidden_states.dim() == 4:
            encoder_hidden_states = encoder_hidden_states.flatten(0, 1)  # [B, F, S, D] -> [B*F, S, D]
        x = frames_to_batch(hidden_states)
        residual = x
        bf, _, h, w = x.shape
        x = self.norm(x)
        if self.use_linear_projection:
            x = self.proj_in(x.permute(0, 2, 3, 1).reshape(bf, h * w, -1))
        else:
            x = self.proj_in(x)
            x = x.permute(0, 2, 3, 1).reshape(bf, h * w, -1)
        for block in self.transformer_blocks:
            x = block(x, encoder_hidden_states)
        if self.use_linear_projection:
            x = tokens_to_maps(self.proj_out(x), h, w, like=residual)
        else:
            x = self.proj_out(tokens_to_maps(x, h, w, like=residual))
        return batch_to_frames(x + residual, num_frames)
