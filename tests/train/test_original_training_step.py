"""Our trainers against the original's training step (tests/fixtures/training, see its README):
losses within 1e-4 relative, gradient norms within 1e-3 relative, random draws identical."""

from __future__ import annotations

import pytest
import torch

from latentsync.config import load_config
from latentsync.models.checkpoint_io import load_strict
from latentsync.models.stable_syncnet import StableSyncNet
from latentsync.models.unet_io import build_unet
from latentsync.pipeline.generate import make_scheduler
from latentsync.train.losses import mixed_noise
from latentsync.train.lpips import LPIPS
from latentsync.train.syncnet_trainer import SyncNetTrainer
from latentsync.train.trepa import TREPALoss, VideoViT, ViTConfig
from latentsync.train.unet_objective import SyncTarget, UNetObjective
from latentsync.train.unet_trainer import select_trainable
from tests.helpers import golden
from tests.helpers import training_fixtures as fx
from tests.helpers.tiny_models import unet_state

LOSS_RTOL, GRAD_RTOL = 1e-4, 1e-3


@pytest.fixture(scope="module")
def pixel_attn_state() -> dict[str, torch.Tensor]:
    """The full-size 16_pixel_attn SyncNet's deterministic weights (401 M parameters), filled once."""
    return golden.fill("stable_syncnet_16_pixel_attn")


def grad_norm_check(named: dict[str, torch.Tensor | None], ref: dict, prefix: str) -> None:
    for key, expected in ref.items():
        if not key.startswith(prefix) or key.endswith("__total__"):
            continue
        grad = named[key[len(prefix) :]]
        got = grad.norm().item() if grad is not None else 0.0
        assert fx.relative(got, expected.item()) <= GRAD_RTOL, (key, got, expected.item())


def total_grad_norm_check(params: list[torch.nn.Parameter], ref: dict, key: str) -> None:
    total = torch.nn.utils.clip_grad_norm_([p for p in params if p.grad is not None], 1.0).item()
    assert fx.relative(total, ref[key].item()) <= GRAD_RTOL, (total, ref[key].item())


@pytest.mark.parametrize("variant", ["16_latent", "16_pixel_attn"])
def test_syncnet_step_matches_original(variant, tmp_path, tiny_models, request):
    ref = fx.load(f"syncnet_step_{variant}")
    frames, mel, y = fx.syncnet_inputs(fx.SYNCNET_SEEDS[variant])
    fx.assert_inputs_match(ref, frames=frames, mel=mel)
    config = load_config(
        f"syncnet_{variant}",
        "syncnet",
        [
            f"data.train_output_dir={tmp_path}",
            f"ckpt.vae_path={tiny_models / 'vae'}",
            "run.tensorboard=false",
        ],
    )
    trainer = SyncNetTrainer(config)
    model = StableSyncNet(config.model)
    state = (
        request.getfixturevalue("pixel_attn_state")
        if variant == "16_pixel_attn"
        else golden.fill(f"stable_syncnet_{variant}")
    )
    load_strict(model, state, "detweights")
    model.train()
    generator = torch.Generator().manual_seed(fx.SYNCNET_LATENT_DRAW_SEED)
    loss = trainer.step_loss(model, {"frames": frames, "audio_samples": mel, "y": y}, generator)
    assert fx.relative(loss.item(), ref["loss"].item()) <= LOSS_RTOL, (loss.item(), ref["loss"].item())
    loss.backward()
    grad_norm_check({k: p.grad for k, p in model.named_parameters()}, ref, "grad_norm.")
    total_grad_norm_check(list(model.parameters()), ref, "grad_norm.__total__")


def unet_objective(pixel_attn_state) -> tuple[UNetObjective, object]:
    """Stage2's objective with the fixture's models: tiny VAE, full 16_pixel_attn SyncNet, full
    VGG16 LPIPS, narrowed VideoMAE-v2; the stage2 config with the tiny UNet at resolution 128."""
    config = load_config("stage2", "unet", ["data.resolution=128"])
    config.model = golden.golden_json("unet_tiny.config.json")
    vae_config = golden.golden_json("vae_tiny.config.json")
    from diffusers import AutoencoderKL

    vae = AutoencoderKL(**vae_config)
    vae.load_state_dict(golden.fill("vae_tiny"), strict=True)
    vae.requires_grad_(False).eval()
    if config.run.pixel_space_supervise:
        vae.enable_gradient_checkpointing()
    syncnet_config = load_config(str(config.data.syncnet_config_path), "syncnet")
    syncnet = StableSyncNet(syncnet_config.model, gradient_checkpointing=True)
    load_strict(syncnet, pixel_attn_state, "detweights")
    syncnet.requires_grad_(False)
    sync = SyncTarget(syncnet, int(syncnet_config.data.resolution), bool(syncnet_config.data.lower_half))
    lpips = fx.fill_by_name(LPIPS())
    trepa = TREPALoss(fx.fill_by_name(VideoViT(ViTConfig(**fx.TREPA_NARROWED), gradient_checkpointing=True)))
    return UNetObjective.from_config(config, vae, make_scheduler(), sync, lpips, trepa), config


def test_unet_step_matches_original(pixel_attn_state):
    ref = fx.load("unet_step_stage2_tiny")
    batch = fx.unet_batch()
    fx.assert_inputs_match(
        ref,
        gt=batch["gt_pixel_values"],
        ref=batch["ref_pixel_values"],
        audio_embeds=batch["audio_embeds"],
        mel=batch["mel"],
    )
    objective, config = unet_objective(pixel_attn_state)
    unet = build_unet(config)
    load_strict(unet, unet_state("unet_tiny"), "detweights")
    unet.train()
    unet.enable_gradient_checkpointing()
    params = select_trainable(unet, list(config.run.trainable_modules))

    out = objective.step(unet, batch, torch.Generator().manual_seed(fx.UNET_DRAW_SEED))
    assert torch.equal(out.timesteps, ref["timesteps"])
    assert torch.allclose(out.noise, ref["noise"], atol=1e-6, rtol=0)  # the same draws, in the same order
    golden.assert_close_ref(out.pred_noise, ref["pred_noise"])
    for name, value in out.terms.items():
        expected = ref[f"loss.{name}"].item()
        assert fx.relative(value.item(), expected) <= LOSS_RTOL, (name, value.item(), expected)
    assert set(out.terms) == {"recon", "sync", "lpips", "trepa"}
    assert fx.relative(out.loss.item(), ref["loss.total"].item()) <= LOSS_RTOL

    names = dict(unet.named_parameters())
    out.loss.backward()
    grad_norm_check({k: p.grad for k, p in names.items()}, ref, "grad_norm.total.")
    total_grad_norm_check(params, ref, "grad_norm.total.__total__")


def test_mixed_noise_draws_match_original():
    ref = fx.load("mixed_noise")
    like = torch.zeros(2, 4, 16, 8, 8)
    for alpha, seed in [(1.0, 7), (0.5, 8), (2.0, 9)]:
        ours = mixed_noise(like, alpha, torch.Generator().manual_seed(seed))
        assert torch.allclose(ours, ref[f"alpha_{alpha}"], atol=1e-6, rtol=0), alpha
    plain = mixed_noise(like, None, torch.Generator().manual_seed(10))
    assert torch.equal(plain, ref["plain"])
    assert torch.equal(plain[:, :, 0], plain[:, :, 15])


def test_mixed_noise_statistics_match_original():
    """Variance 1 and the correlation alpha^2 / (1 + alpha^2) between two frames of one pixel."""
    ref = fx.load("mixed_noise")
    noise = mixed_noise(torch.zeros(64, 4, 16, 16, 16), 1.0, torch.Generator().manual_seed(11))
    assert abs(noise.var().item() - ref["stats_alpha_1.var"].item()) < 1e-5
    a, b = noise[:, :, 3].flatten(), noise[:, :, 11].flatten()
    corr = torch.corrcoef(torch.stack([a, b]))[0, 1].item()
    assert abs(corr - ref["stats_alpha_1.frame_corr"].item()) < 1e-5
    assert abs(corr - 0.5) < 0.02
