"""Loss building blocks: published layouts of VGG16/LPIPS and VideoMAE-v2, and the loss maths."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from latentsync.errors import MissingWeightsError
from latentsync.train.losses import cosine_loss, one_step_x0, syncnet_visual_input
from latentsync.train.lpips import LPIPS, load_lpips
from latentsync.train.trepa import VIDEOMAE_G, VideoViT, ViTConfig, load_trepa
from tests.train.conftest import TINY_VIT

# torchvision vgg16().features: conv layer indices and output channels
VGG16_CONVS = {
    0: 64,
    2: 64,
    5: 128,
    7: 128,
    10: 256,
    12: 256,
    14: 256,
    17: 512,
    19: 512,
    21: 512,
    24: 512,
    26: 512,
    28: 512,
}


def test_lpips_layout_is_torchvision_vgg16_plus_heads():
    with torch.device("meta"):
        state = LPIPS().state_dict()
    expected = {}
    channels = 3
    for index, width in VGG16_CONVS.items():
        expected[f"features.{index}.weight"] = (width, channels, 3, 3)
        expected[f"features.{index}.bias"] = (width,)
        channels = width
    for k, width in enumerate((64, 128, 256, 512, 512)):
        expected[f"lin{k}.model.1.weight"] = (1, width, 1, 1)
    assert {k: tuple(v.shape) for k, v in state.items()} == expected


def test_lpips_is_zero_for_equal_images_and_grows_with_difference(loss_weights):
    lpips = load_lpips(loss_weights["vgg16"], loss_weights["lpips_heads"])
    torch.manual_seed(0)
    image = torch.rand(2, 3, 32, 64) * 2 - 1
    same = lpips(image, image)
    near = lpips(image, image + 0.05 * torch.randn_like(image))
    far = lpips(image, image + 0.5 * torch.randn_like(image))
    assert same.shape == (2, 1, 1, 1) and same.abs().max() < 1e-6
    assert (near > 0).all() and (far > near).all()


def test_missing_vgg_names_the_loss_and_the_switch(tmp_path, loss_weights):
    with pytest.raises(MissingWeightsError, match="perceptual.*run.perceptual_loss_weight=0"):
        load_lpips(tmp_path / "vgg16-397923af.pth", loss_weights["lpips_heads"])
    with pytest.raises(MissingWeightsError, match="TREPA.*run.trepa_loss_weight=0"):
        load_trepa(tmp_path / "vit.pth")


def test_videomae_g_layout():
    with torch.device("meta"):
        state = VideoViT(VIDEOMAE_G).state_dict()
    shapes = {k: tuple(v.shape) for k, v in state.items()}
    assert shapes["patch_embed.proj.weight"] == (1408, 3, 2, 14, 14)
    assert shapes["blocks.39.attn.qkv.weight"] == (3 * 1408, 1408)
    assert shapes["blocks.0.attn.q_bias"] == (1408,) and "blocks.0.attn.k_bias" not in shapes
    assert shapes["blocks.0.mlp.fc1.weight"] == (6144, 1408)
    assert shapes["fc_norm.weight"] == (1408,) and shapes["head.weight"] == (174, 1408)
    assert "pos_embed" not in shapes  # a fixed table, not stored in the checkpoint
    assert len(shapes) == 2 + 40 * 13 + 4
    assert sum(math.prod(s) for s in shapes.values()) > 1.0e9


def test_trepa_loads_nested_checkpoint_and_measures_distance(loss_weights):
    trepa = load_trepa(loss_weights["videomae"], ViTConfig(**TINY_VIT), gradient_checkpointing=False)
    torch.manual_seed(0)
    real = torch.rand(1, 3, 16, 64, 64) * 2 - 1
    fake = (real + 0.3 * torch.randn_like(real)).requires_grad_(True)
    assert trepa(real, real).item() == pytest.approx(0.0, abs=1e-10)
    loss = trepa(fake, real)
    loss.backward()
    assert loss.item() > 0 and fake.grad.abs().sum() > 0
    # the loss is the MSE of unit-length features of the resized, [0, 1]-scaled clips
    model = trepa.model

    def prep(video: torch.Tensor) -> torch.Tensor:
        flat = F.interpolate(video.transpose(1, 2).flatten(0, 1), size=(32, 32), mode="bicubic")
        return (flat.unflatten(0, (1, 16)).transpose(1, 2) / 2 + 0.5).clamp(0, 1)

    with torch.no_grad():
        a = F.normalize(model.forward_features(prep(fake)), dim=1)
        b = F.normalize(model.forward_features(prep(real)), dim=1)
    assert loss.item() == pytest.approx(F.mse_loss(a, b).item(), rel=1e-4)


def test_cosine_loss_is_bce_of_similarity():
    v = F.normalize(torch.tensor([[1.0, 0.0], [0.6, 0.8]]), dim=1)
    a = F.normalize(torch.tensor([[1.0, 1.0], [0.6, 0.8]]), dim=1)
    y = torch.tensor([[1.0], [0.0]])
    sims = torch.tensor([1 / math.sqrt(2), 1.0 - 1e-7])
    expected = torch.stack([-torch.log(sims[0]), -torch.log(torch.tensor(1e-7)).clamp(max=100)])
    got = cosine_loss(v, a, y)
    assert got[0].item() == pytest.approx(expected[0].item(), rel=1e-5)
    assert got[1].item() > 15  # a perfect match labelled "not in sync" costs a lot


def test_syncnet_input_stacks_frames_and_keeps_lower_half():
    frames = torch.arange(2 * 16 * 3 * 4 * 6, dtype=torch.float32).reshape(2, 16, 3, 4, 6)
    out = syncnet_visual_input(frames, lower_half=True)
    assert out.shape == (2, 48, 2, 6)
    assert torch.equal(out[1, 3 * 5 + 2], frames[1, 5, 2, 2:])


def test_one_step_x0_inverts_add_noise():
    from latentsync.pipeline.generate import make_scheduler

    scheduler = make_scheduler()
    torch.manual_seed(0)
    x0 = torch.rand(2, 4, 3, 8, 8) * 2 - 1
    noise = torch.randn_like(x0)
    t = torch.tensor([10, 900])
    noisy = scheduler.add_noise(x0, noise, t)
    assert torch.allclose(one_step_x0(scheduler.alphas_cumprod, noise, t, noisy, clip=False), x0, atol=1e-4)
