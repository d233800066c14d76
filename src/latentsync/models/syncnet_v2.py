"""The Chung & Zisserman SyncNet (``syncnet_v2.model``) behind the LSE-C / LSE-D sync metrics."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from latentsync.models.checkpoint_io import load_weights


def _audio_trunk() -> nn.Sequential:
    """MFCC [B,1,13,20] -> [B,512,1,1]; layer indices must stay as published (``netcnnaud.N``)."""
    return nn.Sequential(
        nn.Conv2d(1, 64, kernel_size=3, padding=1),
        nn.BatchNorm2d(64),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=1, stride=1),
        nn.Conv2d(64, 192, kernel_size=3, padding=1),
        nn.BatchNorm2d(192),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=(1, 2)),
        nn.Conv2d(192, 384, kernel_size=3, padding=1),
        nn.BatchNorm2d(384),
        nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, kernel_size=3, padding=1),
        nn.BatchNorm2d(256),
        nn.ReLU(inplace=True),
        nn.Conv2d(256, 256, kernel_size=3, padding=1),
        nn.BatchNorm2d(256),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(256, 512, kernel_size=(5, 4)),
        nn.BatchNorm2d(512),
        nn.ReLU(),
    )


def _lip_trunk() -> nn.Sequential:
    """Five RGB frames [B,3,5,224,224] -> [B,512,1,1,1] (``netcnnlip.N``)."""
    return nn.Sequential(
        nn.Conv3d(3, 96, kernel_size=(5, 7, 7), stride=(1, 2, 2)),
        nn.BatchNorm3d(96),
        nn.ReLU(inplace=True),
        nn.MaxPool3d(kernel_size=(1, 3, 3), stride=(1, 2, 2)),
        nn.Conv3d(96, 256, kernel_size=(1, 5, 5), stride=(1, 2, 2), padding=(0, 1, 1)),
        nn.BatchNorm3d(256),
        nn.ReLU(inplace=True),
        nn.MaxPool3d(kernel_size=(1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1)),
        nn.Conv3d(256, 256, kernel_size=(1, 3, 3), padding=(0, 1, 1)),
        nn.BatchNorm3d(256),
        nn.ReLU(inplace=True),
        nn.Conv3d(256, 256, kernel_size=(1, 3, 3), padding=(0, 1, 1)),
        nn.BatchNorm3d(256),
        nn.ReLU(inplace=True),
        nn.Conv3d(256, 256, kernel_size=(1, 3, 3), padding=(0, 1, 1)),
        nn.BatchNorm3d(256),
        nn.ReLU(inplace=True),
        nn.MaxPool3d(kernel_size=(1, 3, 3), stride=(1, 2, 2)),
        nn.Conv3d(256, 512, kernel_size=(1, 6, 6)),
        nn.BatchNorm3d(512),
        nn.ReLU(inplace=True),
    )


def _embedding_head(width: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(512, 512), nn.BatchNorm1d(512), nn.ReLU(), nn.Linear(512, width))


class SyncNetV2(nn.Module):
    """Audio and lip streams embedded into one space; their distance measures A/V offset.

    Always used in eval mode (BatchNorm running statistics from the checkpoint).
    """

    def __init__(self, embedding_size: int = 1024):
        super().__init__()
        self.netcnnaud = _audio_trunk()
        self.netfcaud = _embedding_head(embedding_size)
        self.netfclip = _embedding_head(embedding_size)
        self.netcnnlip = _lip_trunk()
        self.eval()

    def forward_aud(self, mfcc: torch.Tensor) -> torch.Tensor:
        """``mfcc`` [B,1,13,20] (0.2 s of 13 MFCCs) -> [B,1024]."""
        return self.netfcaud(self.netcnnaud(mfcc).flatten(1))

    def forward_lipfeat(self, lip: torch.Tensor) -> torch.Tensor:
        """``lip`` [B,3,5,224,224] -> the 512-d conv feature before the embedding head."""
        return self.netcnnlip(lip).flatten(1)

    def forward_lip(self, lip: torch.Tensor) -> torch.Tensor:
        """``lip`` [B,3,5,224,224] -> [B,1024]."""
        return self.netfclip(self.forward_lipfeat(lip))

    def forward(self, lip: torch.Tensor, mfcc: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.forward_lip(lip), self.forward_aud(mfcc)


def load_syncnet_v2(path: str | Path, device: str | torch.device = "cpu") -> SyncNetV2:
    """``syncnet_v2.model`` (a plain state dict) loaded strictly, in eval mode."""
    hint = "expected syncnet_v2.model (joonson/syncnet_python)"
    return load_weights(SyncNetV2(), path, "SyncNet v2", hint=hint, device=device)
