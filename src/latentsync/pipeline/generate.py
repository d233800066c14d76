"""The denoising loop for one chunk of aligned faces (LatentSync 1.5/1.6 semantics).

Per chunk of F faces at the model resolution:
  pixels = faces / 127.5 - 1; masked = pixels * mask (mask: 1 = keep, 0 = regenerate)
  UNet input = cat(noisy latents, mask resized to the latent grid (nearest),
                   VAE(masked) latents, VAE(reference = the faces themselves) latents)   # 4+1+4+4 = 13
  classifier-free guidance: unconditional branch = all-zero audio embeddings, batch [uncond, cond]
  DDIM from the packaged scheduler config; one initial noise [1,4,1,h,w] shared by every frame
  output = decoded * (1 - mask) + pixels * mask
VAE encodes use the posterior *mean* (deterministic; the reference implementation's golden
outputs were made that way), latents scaled by 0.18215 with no shift.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from diffusers import AutoencoderKL, DDIMScheduler

from latentsync.config import scheduler_config
from latentsync.models.vae import decode_latents, encode_pixels
from latentsync.pipeline.fast_paths import autocast_context
from latentsync.pipeline.oom import memory_stage
from latentsync.pipeline.timing import NO_TIMES, StageTimes

logger = logging.getLogger(__name__)

LATENT_CHANNELS = 4


@dataclass
class ChunkOutput:
    output: torch.Tensor  # [F, 3, H, W] in about [-1, 1]: generated mouth, original elsewhere
    decoded: torch.Tensor  # [F, 3, H, W] VAE decode of the final latents
    final_latents: torch.Tensor  # [1, 4, F, h, w]


def make_scheduler() -> DDIMScheduler:
    return DDIMScheduler.from_config(scheduler_config())


def initial_noise(seed: int, latent_size: int, generator_device: str = "cpu") -> torch.Tensor:
    """The one noise tensor [1, 4, 1, h, w] every frame of every chunk starts from."""
    generator = torch.Generator(generator_device).manual_seed(int(seed))
    return torch.randn(
        (1, LATENT_CHANNELS, 1, latent_size, latent_size), generator=generator, dtype=torch.float32
    )


class LipsyncGenerator:
    """Generates mouths for chunks of aligned faces; holds no per-video state."""

    def __init__(
        self,
        unet: torch.nn.Module,
        vae: AutoencoderKL,
        mask: torch.Tensor,
        num_inference_steps: int = 20,
        guidance_scale: float = 1.5,
        scheduler: DDIMScheduler | None = None,
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
        step_hook: Callable[[int], None] | None = None,
        timings: StageTimes = NO_TIMES,
        autocast: str | None = None,
        vae_frames: int | None = None,
    ):
        self.unet = unet
        self.vae = vae
        self.scheduler = scheduler or make_scheduler()
        self.num_inference_steps = int(num_inference_steps)
        self.guidance_scale = float(guidance_scale)
        self.device = torch.device(device)
        self.dtype = dtype
        self.step_hook = step_hook  # e.g. DeepCache's per-step counter
        self.timings = timings
        self.autocast = autocast  # "bf16"/"fp16": the UNet runs under torch.autocast
        self.vae_frames = vae_frames  # most frames per VAE call (None: all at once); same output
        mask = torch.as_tensor(mask, dtype=torch.float32)
        self.mask = (mask[0] if mask.ndim == 3 else mask).to(self.device)  # [H, W]

    @property
    def do_cfg(self) -> bool:
        return self.guidance_scale > 1.0

    def _vae_batches(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Frames in sub-batches of ``vae_frames``: VAE memory stays that of one sub-batch however many
        chunks the UNet takes at once (each frame is encoded/decoded on its own, so the result is equal)."""
        return x.split(self.vae_frames) if self.vae_frames else (x,)

    def _encode(self, pixels: torch.Tensor) -> torch.Tensor:
        parts = [encode_pixels(self.vae, part.to(self.device)) for part in self._vae_batches(pixels)]
        return torch.cat(parts)

    def _decode(self, latents: torch.Tensor) -> torch.Tensor:
        return torch.cat([decode_latents(self.vae, part) for part in self._vae_batches(latents)])

    def _unet_call(self, unet_in: torch.Tensor, t: torch.Tensor, audio: torch.Tensor) -> torch.Tensor:
        return self.unet(unet_in, t, encoder_hidden_states=audio).sample.float()

    @staticmethod
    def _frames_to_video(x: torch.Tensor, batch: int) -> torch.Tensor:
        """[B*F, C, h, w] -> [B, C, F, h, w]."""
        bf, c, h, w = x.shape
        return x.reshape(batch, bf // batch, c, h, w).permute(0, 2, 1, 3, 4)

    @torch.no_grad()
    def generate(
        self, faces_uint8: torch.Tensor, audio_embeds: torch.Tensor, noise: torch.Tensor
    ) -> ChunkOutput:
        """``faces_uint8`` [F,3,H,W] (or [B,F,3,H,W] for several chunks at once), ``audio_embeds``
        [F,50,384] (or [B,F,50,384]), ``noise`` [1,4,1,h,w]."""
        batched = faces_uint8.ndim == 5
        if not batched:
            faces_uint8, audio_embeds = faces_uint8[None], audio_embeds[None]
        b, f = faces_uint8.shape[:2]
        height, width = faces_uint8.shape[-2:]
        pixels = (
            faces_uint8.reshape(b * f, *faces_uint8.shape[2:]).to(self.device, torch.float32) / 127.5 - 1.0
        )
        mask = self.mask
        if mask.shape != (height, width):
            raise ValueError(f"mask is {tuple(mask.shape)}, faces are {height}x{width}")
        masked = pixels * mask

        mask_latent = F.interpolate(mask[None, None], size=(height // 8, width // 8), mode="nearest")
        with self.timings.measure("vae_encode", b * f), memory_stage("VAE encode"):
            masked_latents = self._frames_to_video(self._encode(masked), b)
            ref_latents = self._frames_to_video(self._encode(pixels), b)
        mask_latent = mask_latent[:, :, None].expand(b, 1, f, -1, -1)
        conditioning = torch.cat([mask_latent.to(masked_latents), masked_latents, ref_latents], dim=1)

        scheduler = copy.deepcopy(self.scheduler)  # chunk-local timestep state (threads, batches)
        scheduler.set_timesteps(self.num_inference_steps, device=self.device)
        latents = (
            noise.to(self.device, torch.float32).expand(b, -1, f, -1, -1).clone() * scheduler.init_noise_sigma
        )

        audio = audio_embeds.to(self.device, self.dtype).reshape(b * f, *audio_embeds.shape[2:])
        if self.do_cfg:
            audio = torch.cat([torch.zeros_like(audio), audio])
            conditioning_in = torch.cat([conditioning, conditioning])
        else:
            conditioning_in = conditioning
        for step, t in enumerate(scheduler.timesteps):
            if self.step_hook is not None:
                self.step_hook(step)
            model_latents = torch.cat([latents, latents]) if self.do_cfg else latents
            model_latents = scheduler.scale_model_input(model_latents, t)
            unet_in = torch.cat([model_latents, conditioning_in], dim=1).to(self.dtype)
            with (
                self.timings.measure("unet", b * f if step == 0 else 0),
                memory_stage("UNet"),
                autocast_context(self.autocast, self.device),
            ):
                noise_pred = self._unet_call(unet_in, t, audio)
            if self.do_cfg:
                uncond, cond = noise_pred.chunk(2)
                noise_pred = uncond + self.guidance_scale * (cond - uncond)
            latents = scheduler.step(noise_pred, t, latents).prev_sample

        frame_latents = latents.permute(0, 2, 1, 3, 4).reshape(b * f, LATENT_CHANNELS, *latents.shape[-2:])
        with self.timings.measure("vae_decode", b * f), memory_stage("VAE decode"):
            decoded = self._decode(frame_latents).float()
        output = decoded * (1 - mask) + pixels * mask
        shape = (b, f, 3, height, width)
        if not batched:
            return ChunkOutput(output, decoded, latents)
        return ChunkOutput(output.reshape(shape), decoded.reshape(shape), latents)
