"""Training objectives shared by the SyncNet and UNet trainers."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import rearrange


def cosine_loss(vision_embeds: torch.Tensor, audio_embeds: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of the cosine similarity against ``y`` (1 = in sync), per sample.

    The embeddings come out of a ReLU and are unit length, so the similarity is already in [0, 1];
    the clamp only guards against rounding.
    """
    sims = F.cosine_similarity(vision_embeds.float(), audio_embeds.float()).clamp(0.0, 1.0)
    return F.binary_cross_entropy(sims.unsqueeze(1), y.float().view(-1, 1), reduction="none").squeeze(1)


def offsets_loss(
    vision_embeds: torch.Tensor, audio_embeds: torch.Tensor, k: int, synced: int, temperature: float = 0.1
) -> torch.Tensor:
    """Multi-way sync loss over K frame windows per mel window, per mel window.

    ``vision_embeds`` [B*K, D] holds the K windows of each mel window consecutively,
    ``audio_embeds`` [B, D] one row per mel window. Cross-entropy over which window is in sync
    (index ``synced``), as the multi-way matching of Chung et al. 2019, plus the cosine loss with
    the synced and unsynced windows weighted equally so a similarity above 0.5 still means "in sync".
    """
    dim = vision_embeds.shape[-1]
    vision = vision_embeds.float().view(-1, k, dim)
    audio = audio_embeds.float().unsqueeze(1)
    sims = (vision * audio).sum(-1)  # unit vectors: cosine similarity, [B, K]
    target = torch.full((sims.shape[0],), synced, device=sims.device)
    labels = F.one_hot(target, k).float()
    weights = torch.where(labels > 0, float(k - 1), 1.0)
    bce = F.binary_cross_entropy(sims.clamp(0.0, 1.0), labels, weight=weights, reduction="none")
    return F.cross_entropy(sims / temperature, target, reduction="none") + bce.sum(1) / weights.sum(1)


def syncnet_visual_input(frames: torch.Tensor, lower_half: bool) -> torch.Tensor:
    """[B, F, C, H, W] frames or latents -> the SyncNet's [B, F*C, H', W'] (lower half for pixel nets)."""
    stacked = rearrange(frames, "b f c h w -> b (f c) h w")
    if lower_half:
        stacked = stacked[:, :, stacked.shape[2] // 2 :, :]
    return stacked


def mixed_noise(
    like: torch.Tensor, alpha: float | None, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Noise shaped like the video latents ``like`` [B, C, F, h, w], drawn as the original draws it.

    ``alpha`` set: a part shared by all frames plus an independent part, with variances
    alpha^2/(1+alpha^2) and 1/(1+alpha^2) (mixed noise, arXiv 2305.10474). ``alpha`` None: one
    noise frame repeated over time. As the original's ``randn_like(latents)``, each draw fills a
    full tensor in the latents' memory layout (frames of one sample are not contiguous after the
    VAE) and the shared part keeps its frame 0: a CPU generator seeded like the original's RNG gives
    the same noise and leaves the same state for the timesteps drawn next. The result is on the CPU.
    """

    def draw() -> torch.Tensor:
        return torch.empty_like(like, device="cpu", dtype=torch.float32).normal_(generator=generator)

    shared = draw()[:, :, 0:1].expand(like.shape)
    if alpha is None:
        return shared.contiguous()
    shared_std = (alpha**2 / (1 + alpha**2)) ** 0.5
    independent_std = (1 / (1 + alpha**2)) ** 0.5
    return draw() * independent_std + shared * shared_std


def step_generator(seed: int, micro: int, rank: int) -> torch.Generator:
    """The generator of every draw of micro step ``micro`` on process ``rank``."""
    return torch.Generator().manual_seed(seed * 1_000_003 + micro * 7919 + rank)


def one_step_x0(
    alphas_cumprod: torch.Tensor,
    pred_noise: torch.Tensor,
    timesteps: torch.Tensor,
    noisy: torch.Tensor,
    clip: bool,
) -> torch.Tensor:
    """The clean-latent estimate x0 = (x_t - sqrt(1 - a_t) * eps) / sqrt(a_t) of an epsilon prediction."""
    alpha = alphas_cumprod.to(noisy.device)[timesteps].to(pred_noise.dtype).view(-1, 1, 1, 1, 1)
    x0 = (noisy - (1 - alpha).sqrt() * pred_noise) / alpha.sqrt()
    return x0.clamp(-1, 1) if clip else x0


def lower_half(images: torch.Tensor) -> torch.Tensor:
    """The lower half of [N, C, H, W] images (where the mouth is, for LPIPS)."""
    return images[:, :, images.shape[2] // 2 :, :]
