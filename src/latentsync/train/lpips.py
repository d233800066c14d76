"""LPIPS (VGG16 variant) in plain torch: torchvision does not import here, so the VGG16 feature
stack is rebuilt with torchvision's layout (``features.N.weight``) and loads ``vgg16-397923af.pth``.

Distance = sum over the five relu stages of the spatial mean of a learned per-channel weighting
(``lin{k}.model.1.weight``, the layout of the ``lpips`` package's ``weights/v0.1/vgg.pth``) of
squared differences of channel-normalised features. Inputs are images in [-1, 1].
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

import torch
from torch import nn

from latentsync.errors import MissingWeightsError
from latentsync.models.checkpoint_io import load_strict, read_state_file

logger = logging.getLogger(__name__)

# torchvision's vgg16 "D" configuration: channels, "M" = max pool.
VGG16_LAYOUT = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512)
STAGE_ENDS = (4, 9, 16, 23, 30)  # features[:4] ends at relu1_2, ... features[:30] at relu5_3
STAGE_CHANNELS = (64, 128, 256, 512, 512)
SHIFT = (-0.030, -0.088, -0.188)
SCALE = (0.458, 0.448, 0.450)


def vgg16_features(widths: tuple = VGG16_LAYOUT) -> nn.Sequential:
    """Conv/ReLU/MaxPool stack indexed exactly as torchvision's ``vgg16().features`` (up to relu5_3)."""
    layers: list[nn.Module] = []
    channels = 3
    for width in widths:
        if width == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(channels, int(width), kernel_size=3, padding=1), nn.ReLU(inplace=False)]
            channels = int(width)
    return nn.Sequential(*layers)


class _LinearHead(nn.Module):
    """``model.0`` is the dropout of the original head (no weights), ``model.1`` the 1x1 conv."""

    def __init__(self, channels: int):
        super().__init__()
        self.model = nn.Sequential(nn.Dropout(p=0.0), nn.Conv2d(channels, 1, kernel_size=1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


def _unit_channels(x: torch.Tensor, eps: float = 1e-10) -> torch.Tensor:
    return x / (x.pow(2).sum(dim=1, keepdim=True).sqrt() + eps)


class LPIPS(nn.Module):
    """Learned perceptual distance; ``widths`` may be shrunk for tests (real size by default)."""

    def __init__(self, widths: tuple = VGG16_LAYOUT):
        super().__init__()
        self.features = vgg16_features(widths)
        convs = [w for w in widths if w != "M"]
        stage_channels = [convs[i] for i in (1, 3, 6, 9, 12)]
        for k, channels in enumerate(stage_channels):
            self.add_module(f"lin{k}", _LinearHead(channels))
        self.register_buffer("shift", torch.tensor(SHIFT).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("scale", torch.tensor(SCALE).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        self.eval()

    def stages(self, x: torch.Tensor) -> list[torch.Tensor]:
        out, start = [], 0
        for end in STAGE_ENDS:
            for layer in self.features[start:end]:
                x = layer(x)
            out.append(x)
            start = end
        return out

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Images [B, 3, H, W] in [-1, 1] -> distance per image [B, 1, 1, 1]."""
        a = self.stages((pred - self.shift) / self.scale)
        b = self.stages((target - self.shift) / self.scale)
        total = 0.0
        for k, (fa, fb) in enumerate(zip(a, b, strict=True)):
            diff = (_unit_channels(fa) - _unit_channels(fb)).pow(2)
            total = total + getattr(self, f"lin{k}")(diff).mean(dim=(2, 3), keepdim=True)
        return total


def packaged_lpips_heads() -> Path | None:
    """``vgg.pth`` of an installed ``lpips`` package (found without importing it: it needs torchvision)."""
    spec = importlib.util.find_spec("lpips")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "weights" / "v0.1" / "vgg.pth"
    return path if path.is_file() else None


def load_lpips(vgg_path: str | Path | None, heads_path: str | Path | None = None) -> LPIPS:
    """LPIPS with torchvision's VGG16 weights and the LPIPS heads (``heads_path`` or the lpips package's)."""
    heads_path = heads_path or packaged_lpips_heads()
    missing = []
    if not vgg_path or not Path(vgg_path).is_file():
        missing.append(("VGG16 weights vgg16-397923af.pth", "ckpt.vgg16_path or checkpoints/auxiliary/"))
    if not heads_path or not Path(heads_path).is_file():
        missing.append(("LPIPS heads vgg.pth", "ckpt.lpips_heads_path or `pip install lpips`"))
    if missing:
        raise MissingWeightsError(
            missing,
            "the perceptual (LPIPS) loss needs "
            + "; ".join(f"{what} (supply with {how})" for what, how in missing)
            + "; or set run.perceptual_loss_weight=0 to train without it",
        )
    model = LPIPS()
    vgg, _ = read_state_file(vgg_path)
    state = {k: v for k, v in vgg.items() if k.startswith("features.")}
    heads, _ = read_state_file(heads_path)
    state.update({k: v for k, v in heads.items() if k.startswith("lin")})
    load_strict(model, state, f"LPIPS weights {vgg_path} + {heads_path}")
    logger.info("LPIPS: VGG16 from %s, heads from %s", vgg_path, heads_path)
    return model
