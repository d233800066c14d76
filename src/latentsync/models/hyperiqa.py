"""hyperIQA (``koniq_pretrained.pkl``): a hyper network predicting, per image, the weights of a
small target network that scores perceptual quality (0-100 scale, higher is better).

The data pipeline keeps a clip when its score is >= 40.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from latentsync.models.checkpoint_io import load_weights
from latentsync.models.hyperiqa_backbone import HyperIQABackbone

KONIQ_ARGS = (16, 112, 224, 112, 56, 28, 14, 7)  # HyperNet arguments of the published checkpoint


class HyperNet(nn.Module):
    """Image -> target-network input vector and per-image target-network weights."""

    def __init__(
        self,
        lda_out_channels: int,
        hyper_in_channels: int,
        target_in_size: int,
        target_fc1_size: int,
        target_fc2_size: int,
        target_fc3_size: int,
        target_fc4_size: int,
        feature_size: int,
    ):
        super().__init__()
        self.hyper_in_channels = hyper_in_channels
        self.target_in_size = target_in_size
        self.fc_sizes = (target_fc1_size, target_fc2_size, target_fc3_size, target_fc4_size)
        self.feature_size = feature_size
        cells = feature_size**2
        f1, f2, f3, f4 = self.fc_sizes
        for fan_in, fan_out in ((target_in_size, f1), (f1, f2), (f2, f3), (f3, f4)):
            if (fan_in * fan_out) % cells:
                raise ValueError(
                    f"target layer {fan_in}x{fan_out} is not divisible by feature_size^2={cells}"
                )

        self.res = HyperIQABackbone(lda_out_channels, target_in_size)
        self.pool = nn.AdaptiveAvgPool2d((1, 1))
        self.conv1 = nn.Sequential(
            nn.Conv2d(2048, 1024, kernel_size=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(1024, 512, kernel_size=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(512, hyper_in_channels, kernel_size=1),
            nn.ReLU(inplace=True),
        )
        c = hyper_in_channels
        # Weights of each target layer come from a conv over the feature map, biases from its mean.
        self.fc1w_conv = nn.Conv2d(c, target_in_size * f1 // cells, kernel_size=3, padding=1)
        self.fc1b_fc = nn.Linear(c, f1)
        self.fc2w_conv = nn.Conv2d(c, f1 * f2 // cells, kernel_size=3, padding=1)
        self.fc2b_fc = nn.Linear(c, f2)
        self.fc3w_conv = nn.Conv2d(c, f2 * f3 // cells, kernel_size=3, padding=1)
        self.fc3b_fc = nn.Linear(c, f3)
        self.fc4w_conv = nn.Conv2d(c, f3 * f4 // cells, kernel_size=3, padding=1)
        self.fc4b_fc = nn.Linear(c, f4)
        self.fc5w_fc = nn.Linear(c, f4)
        self.fc5b_fc = nn.Linear(c, 1)
        self.eval()

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """``images`` [B,3,224,224] ImageNet-normalised -> ``target_in_vec`` [B,224,1,1] and
        ``target_fc{1..5}w`` [B,out,in,1,1] / ``target_fc{1..5}b`` [B,out]."""
        backbone = self.res(images)
        batch = images.shape[0]
        feat = self.conv1(backbone["hyper_in_feat"]).reshape(
            batch, self.hyper_in_channels, self.feature_size, self.feature_size
        )
        pooled = self.pool(feat).flatten(1)
        f1, f2, f3, f4 = self.fc_sizes
        return {
            "target_in_vec": backbone["target_in_vec"].reshape(batch, self.target_in_size, 1, 1),
            "target_fc1w": self.fc1w_conv(feat).reshape(batch, f1, self.target_in_size, 1, 1),
            "target_fc1b": self.fc1b_fc(pooled).reshape(batch, f1),
            "target_fc2w": self.fc2w_conv(feat).reshape(batch, f2, f1, 1, 1),
            "target_fc2b": self.fc2b_fc(pooled).reshape(batch, f2),
            "target_fc3w": self.fc3w_conv(feat).reshape(batch, f3, f2, 1, 1),
            "target_fc3b": self.fc3b_fc(pooled).reshape(batch, f3),
            "target_fc4w": self.fc4w_conv(feat).reshape(batch, f4, f3, 1, 1),
            "target_fc4b": self.fc4b_fc(pooled).reshape(batch, f4),
            "target_fc5w": self.fc5w_fc(pooled).reshape(batch, 1, f4, 1, 1),
            "target_fc5b": self.fc5b_fc(pooled).reshape(batch, 1),
        }


def _per_image_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """x [B,in], weight [B,out,in,1,1], bias [B,out] -> [B,out]: each image uses its own layer."""
    return torch.bmm(weight.flatten(2), x.unsqueeze(2)).squeeze(2) + bias


class TargetNet(nn.Module):
    """Four sigmoid layers and a linear output whose parameters are HyperNet's predictions."""

    def __init__(self, paras: dict[str, torch.Tensor]):
        super().__init__()
        self.layers = [(paras[f"target_fc{i}w"], paras[f"target_fc{i}b"]) for i in range(1, 6)]

    def forward(self, target_in_vec: torch.Tensor) -> torch.Tensor:
        """``target_in_vec`` [B,in,1,1] -> quality scores [B]."""
        h = target_in_vec.flatten(1)
        for i, (weight, bias) in enumerate(self.layers):
            h = _per_image_linear(h, weight, bias)
            if i < len(self.layers) - 1:
                h = torch.sigmoid(h)
        return h.squeeze(1)


def predict_quality(model: HyperNet, images: torch.Tensor) -> torch.Tensor:
    """ImageNet-normalised [B,3,224,224] -> quality score per image [B]."""
    paras = model(images)
    return TargetNet(paras)(paras["target_in_vec"])


def load_hyperiqa(path: str | Path, device: str | torch.device = "cpu") -> HyperNet:
    """``koniq_pretrained.pkl`` (HyperNet state dict pickled by torch) loaded strictly, in eval mode."""
    hint = "expected koniq_pretrained.pkl (hyperIQA KonIQ-10k)"
    return load_weights(HyperNet(*KONIQ_ARGS), path, "hyperIQA", hint=hint, device=device)
