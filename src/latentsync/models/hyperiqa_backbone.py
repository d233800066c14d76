"""hyperIQA's ResNet-50 with local-distortion-aware (LDA) taps, in plain torch (no torchvision).

Key names follow torchvision's ResNet-50 (``layerN.M.convK``/``bnK``/``downsample``) plus the
``lda*`` modules, as stored under ``res.`` in ``koniq_pretrained.pkl``.
"""

from __future__ import annotations

import torch
from torch import nn


class Bottleneck(nn.Module):
    """1x1 -> 3x3 (strided) -> 1x1 residual block with 4x channel expansion."""

    expansion = 4

    def __init__(self, in_channels: int, width: int, stride: int = 1, downsample: nn.Module | None = None):
        super().__init__()
        out_channels = width * self.expansion
        self.conv1 = nn.Conv2d(in_channels, width, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out_channels, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = self.downsample(x) if self.downsample is not None else x
        return self.relu(out + identity)


def _stage(in_channels: int, width: int, blocks: int, stride: int) -> nn.Sequential:
    out_channels = width * Bottleneck.expansion
    downsample = None
    if stride != 1 or in_channels != out_channels:
        downsample = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride, bias=False),
            nn.BatchNorm2d(out_channels),
        )
    layers = [Bottleneck(in_channels, width, stride, downsample)]
    layers += [Bottleneck(out_channels, width) for _ in range(blocks - 1)]
    return nn.Sequential(*layers)


def _lda_pool(in_channels: int, out_channels: int) -> nn.Sequential:
    """1x1 channel reduction then 7x7 average pooling (keys ``ldaN_pool.0``)."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=1, bias=False),
        nn.AvgPool2d(7, stride=7),
    )


class HyperIQABackbone(nn.Module):
    """ResNet-50 whose four stages each contribute a slice of the target network's input vector.

    For a 224x224 input: ``hyper_in_feat`` is the [B,2048,7,7] last-stage map and
    ``target_in_vec`` the [B, target_in_size] concatenation of the LDA features.
    """

    def __init__(self, lda_out_channels: int, target_in_size: int):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = _stage(64, 64, 3, stride=1)
        self.layer2 = _stage(256, 128, 4, stride=2)
        self.layer3 = _stage(512, 256, 6, stride=2)
        self.layer4 = _stage(1024, 512, 3, stride=2)

        # Feature sizes below assume 224x224 inputs (56/28/14/7 maps pooled by 7).
        self.lda1_pool = _lda_pool(256, 16)
        self.lda1_fc = nn.Linear(16 * 64, lda_out_channels)
        self.lda2_pool = _lda_pool(512, 32)
        self.lda2_fc = nn.Linear(32 * 16, lda_out_channels)
        self.lda3_pool = _lda_pool(1024, 64)
        self.lda3_fc = nn.Linear(64 * 4, lda_out_channels)
        self.lda4_pool = nn.AvgPool2d(7, stride=7)
        self.lda4_fc = nn.Linear(2048, target_in_size - lda_out_channels * 3)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer1(x)
        lda1 = self.lda1_fc(self.lda1_pool(x).flatten(1))
        x = self.layer2(x)
        lda2 = self.lda2_fc(self.lda2_pool(x).flatten(1))
        x = self.layer3(x)
        lda3 = self.lda3_fc(self.lda3_pool(x).flatten(1))
        x = self.layer4(x)
        lda4 = self.lda4_fc(self.lda4_pool(x).flatten(1))
        return {"hyper_in_feat": x, "target_in_vec": torch.cat([lda1, lda2, lda3, lda4], dim=1)}
