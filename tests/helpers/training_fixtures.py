"""tests/fixtures/training: the original's training steps on deterministic weights (see its README).

The inputs are not stored: they follow from the rules below (one CPU generator per fixture), and each
fixture keeps checksums of them so a changed rule fails loudly instead of comparing other numbers.
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file

from tests.helpers.detweights import deterministic_tensor

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "training"
SYNCNET_SEEDS = {"16_pixel_attn": 20181, "16_latent": 20182}
SYNCNET_LATENT_DRAW_SEED = 31337
UNET_INPUT_SEED = 27182
UNET_DRAW_SEED = 4242
TREPA_NARROWED = {"embed_dim": 64, "depth": 2, "num_heads": 4}
"""VideoMAE-v2 ViT-g's code path at width 64, depth 2, 4 heads (the 1 B-parameter ViT-g is out of reach here)."""


def load(name: str) -> dict[str, torch.Tensor]:
    return load_file(str(FIXTURES / f"{name}.safetensors"))


def syncnet_inputs(seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Two 16-frame 256x256 clips and two mel windows -> 4 pairs (clip, mel, in sync?)."""
    g = torch.Generator().manual_seed(seed)
    frames = torch.rand(2, 16, 3, 256, 256, generator=g) * 2 - 1
    mel = torch.randn(2, 1, 80, 52, generator=g)
    clip, window = [0, 0, 1, 1], [0, 1, 1, 0]
    return frames[clip], mel[window], torch.tensor([[1.0], [0.0], [1.0], [0.0]])


def unet_batch(seed: int = UNET_INPUT_SEED) -> dict[str, torch.Tensor]:
    """A batch of 2 samples of 16 frames at 128x128 as the UNet dataset yields it (mask: lower half)."""
    g = torch.Generator().manual_seed(seed)
    gt = torch.rand(2, 16, 3, 128, 128, generator=g) * 2 - 1
    ref = torch.rand(2, 16, 3, 128, 128, generator=g) * 2 - 1
    audio = torch.randn(2, 16, 50, 384, generator=g)
    mel = torch.randn(2, 1, 80, 52, generator=g)
    masks = torch.ones(2, 16, 1, 128, 128)
    masks[..., 64:, :] = 0
    return {
        "gt_pixel_values": gt,
        "masked_pixel_values": gt * masks,
        "masks": masks,
        "ref_pixel_values": ref,
        "audio_embeds": audio,
        "mel": mel,
    }


def assert_inputs_match(fixture: dict[str, torch.Tensor], **inputs: torch.Tensor) -> None:
    """The inputs the rules give are the ones the fixture was made from (first values and sums)."""
    for name, tensor in inputs.items():
        t = tensor.float()
        assert torch.equal(t.flatten()[:8], fixture[f"inputs.{name}.head"]), name
        for stat, value in (("sum", t.sum()), ("abs_sum", t.abs().sum())):
            expected = fixture[f"inputs.{name}.{stat}"].item()
            assert abs(value.item() - expected) <= 1e-5 * abs(expected), (name, stat, value.item(), expected)


def fill_by_name(module: torch.nn.Module, rename=lambda key: key) -> torch.nn.Module:
    """detweights for every parameter, keyed by its name in the published file (``rename``)."""
    with torch.no_grad():
        for key, param in module.named_parameters():
            param.copy_(deterministic_tensor(rename(key), param.shape))
    return module


def relative(actual: float, expected: float) -> float:
    return abs(actual - expected) / max(abs(expected), 1e-30)
