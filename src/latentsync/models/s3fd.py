"""S3FD face detector network (``sfd_face.pth``): VGG16 trunk with six multibox heads.

The forward pass returns the raw heads and the anchor boxes; turning them into face
boxes (decode + NMS) lives in ``latentsync.face.s3fd_boxes``.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from latentsync.models.checkpoint_io import load_weights

ANCHOR_SIZES = (16, 32, 64, 128, 256, 512)  # pixels, one anchor per cell on each head
ANCHOR_STRIDES = (4, 8, 16, 32, 64, 128)


class S3FDHeads(NamedTuple):
    loc: torch.Tensor  # [B, N, 4] box offsets (centre/size encoding)
    conf_softmax: torch.Tensor  # [B, N, 2] background / face probabilities
    priors: torch.Tensor  # [N, 4] anchors (cx, cy, w, h) relative to the input size


class ChannelL2Norm(nn.Module):
    """Per-location L2 normalisation over channels with a learned per-channel scale."""

    def __init__(self, channels: int, initial_scale: float):
        super().__init__()
        self.weight = nn.Parameter(torch.full((channels,), float(initial_scale)))
        self.eps = 1e-10

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        norm = x.pow(2).sum(dim=1, keepdim=True).sqrt() + self.eps
        return self.weight.view(1, -1, 1, 1) * (x / norm)


def _vgg_trunk() -> nn.ModuleList:
    """VGG16 conv1_1..fc7 with ReLUs and pools as separate entries (keys ``vgg.N`` must match)."""

    def conv(cin: int, cout: int, **kw) -> list[nn.Module]:
        return [
            nn.Conv2d(cin, cout, kernel_size=kw.pop("k", 3), padding=kw.pop("p", 1), **kw),
            nn.ReLU(inplace=True),
        ]

    layers: list[nn.Module] = []
    layers += conv(3, 64) + conv(64, 64) + [nn.MaxPool2d(2, 2)]
    layers += conv(64, 128) + conv(128, 128) + [nn.MaxPool2d(2, 2)]
    layers += conv(128, 256) + conv(256, 256) + conv(256, 256) + [nn.MaxPool2d(2, 2, ceil_mode=True)]
    layers += conv(256, 512) + conv(512, 512) + conv(512, 512) + [nn.MaxPool2d(2, 2)]
    layers += conv(512, 512) + conv(512, 512) + conv(512, 512) + [nn.MaxPool2d(2, 2)]
    layers += conv(512, 1024, p=6, dilation=6) + conv(1024, 1024, k=1, p=0)
    return nn.ModuleList(layers)


# Trunk slices whose outputs feed heads: conv3_3 (after ReLU), conv4_3, conv5_3, fc7.
_CONV3_3_END, _CONV4_3_END, _CONV5_3_END = 16, 23, 30


def anchor_boxes(image_size: tuple[int, int], feature_sizes: list[tuple[int, int]]) -> torch.Tensor:
    """One square anchor per feature-map cell, in (cx, cy, w, h) relative to the image, float32.

    Computed in float64 and rounded once, like the original's Python-float prior table.
    """
    height, width = image_size
    tables = []
    for (fh, fw), stride, size in zip(feature_sizes, ANCHOR_STRIDES, ANCHOR_SIZES, strict=True):
        cells_x, cells_y = width / stride, height / stride
        ys, xs = torch.meshgrid(
            torch.arange(fh, dtype=torch.float64), torch.arange(fw, dtype=torch.float64), indexing="ij"
        )
        cx = (xs.reshape(-1) + 0.5) / cells_x
        cy = (ys.reshape(-1) + 0.5) / cells_y
        w = torch.full_like(cx, size / width)
        h = torch.full_like(cy, size / height)
        tables.append(torch.stack([cx, cy, w, h], dim=1))
    return torch.cat(tables).to(torch.float32)


class S3FD(nn.Module):
    """Single-shot scale-invariant face detector; input is RGB minus the (123, 117, 104) mean."""

    def __init__(self):
        super().__init__()
        self.vgg = _vgg_trunk()
        self.L2Norm3_3 = ChannelL2Norm(256, 10)
        self.L2Norm4_3 = ChannelL2Norm(512, 8)
        self.L2Norm5_3 = ChannelL2Norm(512, 5)
        self.extras = nn.ModuleList(
            [
                nn.Conv2d(1024, 256, kernel_size=1),
                nn.Conv2d(256, 512, kernel_size=3, stride=2, padding=1),
                nn.Conv2d(512, 128, kernel_size=1),
                nn.Conv2d(128, 256, kernel_size=3, stride=2, padding=1),
            ]
        )
        source_channels = (256, 512, 512, 1024, 512, 256)
        self.loc = nn.ModuleList(nn.Conv2d(c, 4, kernel_size=3, padding=1) for c in source_channels)
        # The first conf head predicts 3 background scores + 1 face score ("max-out" background).
        self.conf = nn.ModuleList(
            nn.Conv2d(c, 4 if i == 0 else 2, kernel_size=3, padding=1) for i, c in enumerate(source_channels)
        )
        self.eval()

    def _sources(self, x: torch.Tensor) -> list[torch.Tensor]:
        sources = []
        for start, end, norm in (
            (0, _CONV3_3_END, self.L2Norm3_3),
            (_CONV3_3_END, _CONV4_3_END, self.L2Norm4_3),
            (_CONV4_3_END, _CONV5_3_END, self.L2Norm5_3),
        ):
            for layer in self.vgg[start:end]:
                x = layer(x)
            sources.append(norm(x))
        for layer in self.vgg[_CONV5_3_END:]:
            x = layer(x)
        sources.append(x)
        for k, layer in enumerate(self.extras):
            x = F.relu(layer(x))
            if k % 2 == 1:
                sources.append(x)
        return sources

    def forward(self, x: torch.Tensor) -> S3FDHeads:
        """``x`` [B,3,H,W] mean-subtracted RGB -> raw heads and anchors."""
        sources = self._sources(x)
        locs, confs, sizes = [], [], []
        for i, source in enumerate(sources):
            loc = self.loc[i](source)
            conf = self.conf[i](source)
            if i == 0:
                background = conf[:, 0:3].amax(dim=1, keepdim=True)
                conf = torch.cat([background, conf[:, 3:]], dim=1)
            sizes.append((loc.shape[2], loc.shape[3]))
            locs.append(loc.permute(0, 2, 3, 1).reshape(x.shape[0], -1, 4))
            confs.append(conf.permute(0, 2, 3, 1).reshape(x.shape[0], -1, 2))
        priors = anchor_boxes((x.shape[2], x.shape[3]), sizes).to(x.device)
        return S3FDHeads(torch.cat(locs, 1), torch.cat(confs, 1).softmax(dim=-1), priors)


def load_s3fd(path: str | Path, device: str | torch.device = "cpu") -> S3FD:
    """``sfd_face.pth`` (a plain state dict) loaded strictly, in eval mode."""
    return load_weights(
        S3FD(), path, "S3FD", hint="expected sfd_face.pth (S3FD face detector)", device=device
    )
