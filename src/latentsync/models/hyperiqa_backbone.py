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
        nn.AvgPool2d(LDA_POOL, stride=LDA_POOL),
    )


# ResNet-50 stages: (bottleneck width, blocks, stride); each feeds one LDA tap.
STAGES = ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2))
LDA_REDUCTION = (16, 32, 64, None)  # 1x1-conv channels before pooling (none on the last stage)
LDA_POOL = 7  # every tap pools by 7: 56/28/14/7 maps at a 224x224 input


class HyperIQABackbone(nn.Module):
    """ResNet-50 whose four stages each contribute a slice of the target network's input vector.

    For a 224x224 input: ``hyper_in_feat`` is the [B,2048,7,7] last-stage map and
    ``target_in_vec`` the [B, target_in_size] concatenation of the LDA features.
    Modules keep the checkpoint's names: ``layer1..4``, ``lda1..4_pool``, ``lda1..4_fc``.
    """

    def __init__(self, lda_out_channels: int, target_in_size: int):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        channels, size = 64, 56
        for index, ((width, blocks, stride), reduction) in enumerate(zip(STAGES, LDA_REDUCTION), start=1):
            setattr(self, f"layer{index}", _stage(channels, width, blocks, stride))
            channels, size = width * Bottleneck.expansion, size // stride
            cells = (size // LDA_POOL) ** 2
            if reduction is None:  # the last tap: pool only, and it fills the rest of the vector
                setattr(self, f"lda{index}_pool", nn.AvgPool2d(LDA_POOL, stride=LDA_POOL))
                out = target_in_size - lda_out_channels * (len(STAGES) - 1)
                setattr(self, f"lda{index}_fc", nn.Linear(channels * cells, out))
            else:
                setattr(self, f"lda{index}_pool", _lda_pool(channels, reduction))
                setattr(self, f"lda{index}_fc", nn.Linear(reduction * cells, lda_out_channels))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        taps = []
        for index in range(1, len(STAGES) + 1):
            x = getattr(self, f"layer{index}")(x)
            pooled = getattr(self, f"lda{index}_pool")(x).flatten(1)
            taps.append(getattr(self, f"lda{index}_fc")(pooled))
        return {"hyper_in_feat": x, "target_in_vec": torch.cat(taps, dim=1)}
