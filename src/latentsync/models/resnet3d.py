"""Video ([B, C, F, H, W]) convolution blocks built from 2D layers applied frame by frame.

The published weights are 2D (SD-1.5 style): convolutions see one frame at a time, while the
resnets' plain ``nn.GroupNorm`` computes its statistics over all frames of a clip.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def frames_to_batch(x: torch.Tensor) -> torch.Tensor:
    """[B, C, F, H, W] -> [B*F, C, H, W] (batch-major, frame-minor)."""
    b, c, f, h, w = x.shape
    return x.permute(0, 2, 1, 3, 4).reshape(b * f, c, h, w)


def batch_to_frames(x: torch.Tensor, num_frames: int) -> torch.Tensor:
    """[B*F, C, H, W] -> [B, C, F, H, W]."""
    bf, c, h, w = x.shape
    return x.reshape(bf // num_frames, num_frames, c, h, w).permute(0, 2, 1, 3, 4)


def tokens_to_maps(x: torch.Tensor, height: int, width: int, like: torch.Tensor) -> torch.Tensor:
    """[N, H*W, C] tokens -> [N, C, H, W] maps, laid out in memory as ``like`` (the residual).

    A bare permute leaves channels-last strides, which spread through the residual adds and skips
    to every later convolution and norm; with NCHW weights oneDNN then reorders the weights on
    each call (the UNet ran ~1.2x slower than the original, which copies here too). With
    channels-last weights (``--channels-last``) the residual is channels-last and so are the maps.
    """
    n, _, c = x.shape
    maps = x.reshape(n, height, width, c).permute(0, 3, 1, 2)
    channels_last = like.is_contiguous(memory_format=torch.channels_last) and not like.is_contiguous()
    return maps.contiguous(memory_format=torch.channels_last if channels_last else torch.contiguous_format)


class FrameConv2d(nn.Conv2d):
    """A 2D convolution applied to every frame (the original's ``InflatedConv3d``)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return batch_to_frames(super().forward(frames_to_batch(x)), x.shape[2])


class FrameGroupNorm(nn.GroupNorm):
    """Group norm with per-frame statistics (the original's ``InflatedGroupNorm``)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return batch_to_frames(super().forward(frames_to_batch(x)), x.shape[2])


def make_group_norm(channels: int, groups: int, eps: float, per_frame: bool) -> nn.GroupNorm:
    cls = FrameGroupNorm if per_frame else nn.GroupNorm
    return cls(num_groups=groups, num_channels=channels, eps=eps, affine=True)


def activation(name: str) -> nn.Module:
    if name in ("silu", "swish"):
        return nn.SiLU()
    if name == "mish":
        return nn.Mish()
    if name == "gelu":
        return nn.GELU()
    raise ValueError(f"unknown activation '{name}'")


class ResnetBlock3D(nn.Module):
    """Pre-norm residual block with the timestep embedding added between the two convs."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        temb_channels: int | None,
        groups: int = 32,
        eps: float = 1e-6,
        act_fn: str = "silu",
        time_embedding_norm: str = "default",
        output_scale_factor: float = 1.0,
        dropout: float = 0.0,
        per_frame_norm: bool = False,
    ):
        super().__init__()
        if time_embedding_norm not in ("default", "scale_shift"):
            raise ValueError(f"unknown resnet_time_scale_shift '{time_embedding_norm}'")
        self.time_embedding_norm = time_embedding_norm
        self.output_scale_factor = output_scale_factor
        self.norm1 = make_group_norm(in_channels, groups, eps, per_frame_norm)
        self.conv1 = FrameConv2d(in_channels, out_channels, kernel_size=3, stride=1, padding=1)
        self.time_emb_proj = None
        if temb_channels is not None:
            scale = 2 if time_embedding_norm == "scale_shift" else 1
            self.time_emb_proj = nn.Linear(temb_channels, out_channels * scale)
        self.norm2 = make_group_norm(out_channels, groups, eps, per_frame_norm)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = FrameConv2d(out_channels, out_channels, kernel_size=3, stride=1, padding=1)
        self.nonlinearity = activation(act_fn)
        self.conv_shortcut = None
        if in_channels != out_channels:
            self.conv_shortcut = FrameConv2d(in_channels, out_channels, kernel_size=1, stride=1, padding=0)

    def forward(self, input_tensor: torch.Tensor, temb: torch.Tensor | None) -> torch.Tensor:
        hidden = self.conv1(self.nonlinearity(self.norm1(input_tensor)))
        time = None
        if temb is not None and self.time_emb_proj is not None:
            time = self.time_emb_proj(self.nonlinearity(temb))[:, :, None, None, None]
        if time is not None and self.time_embedding_norm == "default":
            hidden = hidden + time
        hidden = self.norm2(hidden)
        if time is not None and self.time_embedding_norm == "scale_shift":
            scale, shift = time.chunk(2, dim=1)
            hidden = hidden * (1 + scale) + shift
        hidden = self.conv2(self.dropout(self.nonlinearity(hidden)))
        shortcut = input_tensor if self.conv_shortcut is None else self.conv_shortcut(input_tensor)
        return (shortcut + hidden) / self.output_scale_factor


class Downsample3D(nn.Module):
    """Stride-2 3x3 convolution per frame (frames are never downsampled)."""

    def __init__(self, channels: int, out_channels: int | None = None, padding: int = 1):
        super().__init__()
        self.conv = FrameConv2d(channels, out_channels or channels, 3, stride=2, padding=padding)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.conv(hidden_states)


class Upsample3D(nn.Module):
    """Nearest 2x spatial upsampling, then a 3x3 convolution per frame."""

    def __init__(self, channels: int, out_channels: int | None = None):
        super().__init__()
        self.conv = FrameConv2d(channels, out_channels or channels, 3, padding=1)

    def forward(
        self, hidden_states: torch.Tensor, output_size: tuple[int, ...] | None = None
    ) -> torch.Tensor:
        if output_size is None:
            hidden_states = F.interpolate(hidden_states, scale_factor=(1.0, 2.0, 2.0), mode="nearest")
        else:
            hidden_states = F.interpolate(hidden_states, size=tuple(output_size), mode="nearest")
        return self.conv(hidden_states)
