"""Fixtures for training tests: small face clips, tiny SyncNet/UNet training configs and
deterministic stand-in weights for every loss model (SyncNet, VGG16 + LPIPS heads, VideoMAE)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from tests.train.face_clips import write_face_clips

TINY_SYNCNET_MODEL = {
    "audio_encoder": {
        "in_channels": 1,
        "block_out_channels": [32, 32, 32, 64, 64, 64],
        "downsample_factors": [[2, 1], 2, 2, 2, 2, [2, 3]],
        "attn_blocks": [0, 0, 0, 0, 0, 0],
        "dropout": 0.0,
    },
    "visual_encoder": {
        "in_channels": 48,
        "block_out_channels": [32, 32, 32, 64, 64, 64],
        "downsample_factors": [[1, 2], 2, 2, 2, 2, 2],
        "attn_blocks": [0, 0, 0, 0, 1, 0],
        "dropout": 0.0,
    },
}
TINY_VIT = {"img_size": 32, "patch_size": 8, "embed_dim": 32, "depth": 2, "num_heads": 2, "num_classes": 4}


def seeded_state(module: torch.nn.Module, seed: int) -> dict[str, torch.Tensor]:
    """Deterministic weights: a fixed-seed re-initialisation of every parameter."""
    generator = torch.Generator().manual_seed(seed)
    state = {}
    for name, tensor in module.state_dict().items():
        if tensor.is_floating_point():
            fan_in = tensor[0].numel() if tensor.dim() > 1 else 1
            state[name] = torch.randn(tensor.shape, generator=generator) / fan_in**0.5
            if (
                name.endswith(("norm1.weight", "norm2.weight", "fc_norm.weight"))
                or ".norm" in name
                and name.endswith("weight")
            ):
                state[name] = 1 + 0.1 * state[name]
        else:
            state[name] = tensor.clone()
    return state


@pytest.fixture(scope="session")
def face_clips(tmp_path_factory) -> list[Path]:
    """Three 60-frame 64x64 face clips (2.4 s each) with 16 kHz audio, from demo1."""
    return write_face_clips(tmp_path_factory.mktemp("face_clips"), resolution=64, clip_frames=60, count=3)


@pytest.fixture(scope="session")
def fileslist(face_clips, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("lists") / "train.txt"
    path.write_text("\n".join(str(p) for p in face_clips) + "\n")
    return path


@pytest.fixture(scope="session")
def loss_weights(tmp_path_factory) -> dict[str, Path]:
    """Stand-ins in the published formats: tiny StableSyncNet, full-size VGG16 + LPIPS heads, tiny VideoMAE."""
    from latentsync.models.stable_syncnet import StableSyncNet
    from latentsync.train.lpips import LPIPS
    from latentsync.train.trepa import VideoViT, ViTConfig

    out = tmp_path_factory.mktemp("loss_weights")
    syncnet_cfg = {
        "model": TINY_SYNCNET_MODEL,
        "data": {"resolution": 64, "num_frames": 16, "lower_half": True, "latent_space": False},
        "ckpt": {"inference_ckpt_path": str(out / "stable_syncnet.pt")},
    }
    (out / "syncnet_tiny.yaml").write_text(yaml.safe_dump(syncnet_cfg))
    torch.save(
        {"state_dict": seeded_state(StableSyncNet(TINY_SYNCNET_MODEL), 1), "global_step": 0},
        out / "stable_syncnet.pt",
    )
    lpips_state = seeded_state(LPIPS(), 2)
    vgg = {k: v for k, v in lpips_state.items() if k.startswith("features.")}
    vgg["classifier.0.weight"] = torch.zeros(4, 4)  # the real file carries the classifier too
    torch.save(vgg, out / "vgg16-397923af.pth")
    torch.save({k: v.abs() for k, v in lpips_state.items() if k.startswith("lin")}, out / "lpips_vgg.pth")
    torch.save({"model": seeded_state(VideoViT(ViTConfig(**TINY_VIT)), 3)}, out / "videomae_tiny.pth")
    return {
        "syncnet_config": out / "syncnet_tiny.yaml",
        "syncnet": out / "stable_syncnet.pt",
        "vgg16": out / "vgg16-397923af.pth",
        "lpips_heads": out / "lpips_vgg.pth",
        "videomae": out / "videomae_tiny.pth",
    }


@pytest.fixture
def syncnet_config(tmp_path, fileslist, loss_weights) -> Path:
    """A tiny SyncNet training config (original key layout) writing to tmp_path/out."""
    cfg = {
        "model": TINY_SYNCNET_MODEL,
        "ckpt": {"resume_ckpt_path": "", "inference_ckpt_path": "", "save_ckpt_steps": 1},
        "data": {
            "batch_size": 4,
            "gradient_accumulation_steps": 1,
            "num_workers": 0,
            "latent_space": False,
            "num_frames": 16,
            "resolution": 64,
            "lower_half": True,
            "audio_sample_rate": 16000,
            "video_fps": 25,
            "train_fileslist": str(fileslist),
            "train_data_dir": "",
            "val_fileslist": str(fileslist),
            "val_data_dir": "",
            "num_val_samples": 8,
            "audio_mel_cache_dir": str(tmp_path / "mel"),
            "train_output_dir": str(tmp_path / "out"),
            "num_train_samples": 4,
        },
        # 1e-3 oscillates on four samples (the trajectory then depends on the thread count)
        "optimizer": {"lr": 1e-4, "max_grad_norm": 1.0},
        "run": {"max_train_steps": 10, "validation_steps": 5, "mixed_precision_training": True, "seed": 42},
    }
    path = tmp_path / "syncnet_train.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.fixture
def unet_config(tmp_path, tiny_models, fileslist, loss_weights) -> Path:
    """The tiny UNet with every loss on, in the original's config layout."""
    from tests.train.conftest import TINY_VIT

    base = yaml.safe_load((tiny_models / "unet_tiny.yaml").read_text())
    base["data"].update(
        train_fileslist=str(fileslist),
        train_data_dir="",
        train_output_dir=str(tmp_path / "out"),
        audio_mel_cache_dir=str(tmp_path / "mel"),
        audio_embeds_cache_dir=str(tmp_path / "whisper"),
        syncnet_config_path=str(loss_weights["syncnet_config"]),
        batch_size=1,
        num_workers=0,
        num_train_samples=1,
        val_video_path="",
        val_audio_path="",
    )
    base["ckpt"] = {
        "resume_ckpt_path": str(tiny_models / "unet_tiny.pt"),  # published format, global_step 0
        "save_ckpt_steps": 1,
        "syncnet_ckpt_path": str(loss_weights["syncnet"]),
        "vae_path": str(tiny_models / "vae"),
        "whisper_path": str(tiny_models / "whisper_tiny.pt"),
        "vgg16_path": str(loss_weights["vgg16"]),
        "lpips_heads_path": str(loss_weights["lpips_heads"]),
        "trepa_ckpt_path": str(loss_weights["videomae"]),
    }
    base["run"].update(
        pixel_space_supervise=True,
        use_syncnet=True,
        sync_loss_weight=0.05,
        perceptual_loss_weight=0.1,
        recon_loss_weight=1,
        trepa_loss_weight=10,
        trainable_modules=["motion_modules.", "attentions."],
        use_mixed_noise=True,
        mixed_noise_alpha=1,
        mixed_precision_training=True,
        enable_gradient_checkpointing=True,
        max_train_steps=4,
        validation_steps=0,
        seed=1247,
        inference_steps=2,
        trepa_model=TINY_VIT,
    )
    base["optimizer"] = {
        "lr": 1e-3,
        "scale_lr": False,
        "max_grad_norm": 1.0,
        "lr_scheduler": "constant",
        "lr_warmup_steps": 0,
    }
    path = tmp_path / "unet_train.yaml"
    path.write_text(yaml.safe_dump(base))
    return path
