"""TREPA: distance between VideoMAE-v2 features of generated and real 16-frame clips.

The ViT keeps the state-dict layout of the VideoMAE-v2 fine-tuned models, so the real
``vit_g_hybrid_pt_1200e_ssv2_ft.pth`` (ViT-g/14, 1408 wide, 40 blocks, tubelets of 2 frames)
loads into ``VideoViT(VIDEOMAE_G)``; smaller ``ViTConfig`` values give the same code for tests.
Features: mean of the final tokens, LayerNorm ``fc_norm``; positions: fixed sinusoid table.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn
from torch.utils.checkpoint import checkpoint

from latentsync.errors import MissingWeightsError
from latentsync.models.checkpoint_io import load_strict, read_state_file

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ViTConfig:
    img_size: int = 224
    patch_size: int = 14
    embed_dim: int = 1408
    depth: int = 40
    num_heads: int = 16
    mlp_ratio: float = 48 / 11
    num_frames: int = 16
    tubelet_size: int = 2
    num_classes: int = 174

    @property
    def grid(self) -> int:
        return self.img_size // self.patch_size


VIDEOMAE_G = ViTConfig()


def sinusoid_table(positions: int, dim: int) -> torch.Tensor:
    """[1, positions, dim]: sin on even, cos on odd channels, frequency 10000^(-2i/dim)."""
    exponent = 2 * (np.arange(dim) // 2) / dim
    angles = np.arange(positions)[:, None] / np.power(10000.0, exponent)[None, :]
    table = np.empty_like(angles)
    table[:, 0::2], table[:, 1::2] = np.sin(angles[:, 0::2]), np.cos(angles[:, 1::2])
    return torch.tensor(table, dtype=torch.float32).unsqueeze(0)


class _PatchEmbed(nn.Module):
    def __init__(self, cfg: ViTConfig):
        super().__init__()
        kernel = (cfg.tubelet_size, cfg.patch_size, cfg.patch_size)
        self.proj = nn.Conv3d(3, cfg.embed_dim, kernel_size=kernel, stride=kernel)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x).flatten(2).transpose(1, 2)


class _Attention(nn.Module):
    """Fused qkv without a k bias (``q_bias``/``v_bias`` as separate parameters)."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, dim * 3, bias=False)
        self.q_bias = nn.Parameter(torch.zeros(dim))
        self.v_bias = nn.Parameter(torch.zeros(dim))
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias = torch.cat([self.q_bias, torch.zeros_like(self.v_bias), self.v_bias])
        qkv = F.linear(x, self.qkv.weight, bias)
        q, k, v = rearrange(qkv, "b n (three h d) -> three b h n d", three=3, h=self.heads)
        out = F.scaled_dot_product_attention(q, k, v)
        return self.proj(rearrange(out, "b h n d -> b n (h d)"))


class _Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class _Block(nn.Module):
    def __init__(self, dim: int, heads: int, mlp_ratio: float):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = _Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = _Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class VideoViT(nn.Module):
    """VideoMAE-v2 video ViT with mean pooling: ``forward_features`` [B, 3, T, H, W] in [0, 1] -> [B, embed_dim].

    Like the original TREPA, pixels go in without mean/std normalisation.
    """

    def __init__(self, cfg: ViTConfig = VIDEOMAE_G, gradient_checkpointing: bool = False):
        super().__init__()
        self.cfg = cfg
        self.patch_embed = _PatchEmbed(cfg)
        tokens = cfg.grid * cfg.grid * (cfg.num_frames // cfg.tubelet_size)
        self.register_buffer("pos_embed", sinusoid_table(tokens, cfg.embed_dim), persistent=False)
        self.blocks = nn.ModuleList(
            _Block(cfg.embed_dim, cfg.num_heads, cfg.mlp_ratio) for _ in range(cfg.depth)
        )
        self.fc_norm = nn.LayerNorm(cfg.embed_dim, eps=1e-6)
        self.head = nn.Linear(cfg.embed_dim, cfg.num_classes)  # unused by TREPA, present in the checkpoint
        self.gradient_checkpointing = gradient_checkpointing

    def positions(self, frames: int) -> torch.Tensor:
        """The table, stretched in time when a clip has another length than the model was trained on."""
        t_model = self.cfg.num_frames // self.cfg.tubelet_size
        t_clip = frames // self.cfg.tubelet_size
        if t_clip == t_model:
            return self.pos_embed
        dim, grid = self.cfg.embed_dim, self.cfg.grid
        table = self.pos_embed.permute(0, 2, 1).reshape(1, dim, t_model, grid, grid)
        table = F.interpolate(table, scale_factor=((t_clip + 0.1) / t_model, 1, 1), mode="trilinear")
        return table.reshape(1, dim, -1).permute(0, 2, 1)

    def forward_features(self, video: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(video)
        x = x + self.positions(video.shape[2]).to(x.dtype)
        for block in self.blocks:
            if self.gradient_checkpointing and torch.is_grad_enabled():
                x = checkpoint(block, x, use_reentrant=False)
            else:
                x = block(x)
        return self.fc_norm(x.mean(1))


class TREPALoss(nn.Module):
    """MSE between L2-normalised video features of fake and real clips ([B, 3, F, H, W] in [-1, 1])."""

    def __init__(self, model: VideoViT):
        super().__init__()
        self.model = model.eval().requires_grad_(False)

    def forward(self, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        size = self.model.cfg.img_size
        frames = fake.shape[2]

        def prepare(video: torch.Tensor) -> torch.Tensor:
            flat = rearrange(video, "b c f h w -> (b f) c h w")
            flat = F.interpolate(flat, size=(size, size), mode="bicubic")
            return (rearrange(flat, "(b f) c h w -> b c f h w", f=frames) / 2 + 0.5).clamp(0, 1)

        dtype = self.model.fc_norm.weight.dtype  # the ViT may be held in fp16 (CUDA)
        feats_fake = self.model.forward_features(prepare(fake).to(dtype)).float()
        feats_real = self.model.forward_features(prepare(real).to(dtype)).float()
        return F.mse_loss(F.normalize(feats_fake, p=2, dim=1), F.normalize(feats_real, p=2, dim=1))


def load_trepa(
    path: str | Path | None, cfg: ViTConfig = VIDEOMAE_G, gradient_checkpointing: bool = True
) -> TREPALoss:
    """TREPA with a VideoMAE-v2 checkpoint (``{"model": ...}``, ``{"module": ...}`` or bare)."""
    if not path or not Path(path).is_file():
        raise MissingWeightsError(
            [
                (
                    "VideoMAE-v2 vit_g_hybrid_pt_1200e_ssv2_ft.pth",
                    "ckpt.trepa_ckpt_path or checkpoints/auxiliary/",
                )
            ],
            "the TREPA loss needs VideoMAE-v2 weights vit_g_hybrid_pt_1200e_ssv2_ft.pth (supply with "
            "ckpt.trepa_ckpt_path or put it under checkpoints/auxiliary/); or set run.trepa_loss_weight=0 "
            "to train without it",
        )
    state, _ = read_state_file(path, nested_keys=("model", "module", "state_dict"))
    model = VideoViT(cfg, gradient_checkpointing)
    load_strict(model, state, f"VideoMAE-v2 checkpoint {path}")
    logger.info("TREPA: VideoMAE-v2 from %s", path)
    return TREPALoss(model)
