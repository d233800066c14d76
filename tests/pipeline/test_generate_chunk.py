"""One 4-frame chunk through the denoising loop equals the original's (golden pipeline_chunk)."""

from __future__ import annotations

import torch
from diffusers import AutoencoderKL

from latentsync.models.unet_io import load_unet
from latentsync.pipeline.generate import LipsyncGenerator, initial_noise, make_scheduler
from tests.helpers import golden


def _generator(tiny_models, guidance_scale=1.5, steps=3):
    unet = load_unet(tiny_models / "unet_tiny.yaml", tiny_models / "unet_tiny.pt")
    vae = AutoencoderKL.from_pretrained(tiny_models / "vae")
    mask = golden.reference("pipeline_chunk")["mask"]
    return LipsyncGenerator(unet, vae, mask, num_inference_steps=steps, guidance_scale=guidance_scale)


def test_chunk_matches_original(tiny_models):
    ref = golden.reference("pipeline_chunk")
    gen = _generator(tiny_models)
    sched = make_scheduler()
    sched.set_timesteps(3)
    assert sched.timesteps.tolist() == ref["timesteps"].tolist()
    out = gen.generate(ref["faces_uint8"], ref["audio_embeds"], ref["init_noise"])
    golden.assert_close_ref(out.final_latents, ref["final_latents"])
    golden.assert_close_ref(out.decoded, ref["decoded"])
    golden.assert_close_ref(out.output, ref["output"])


def test_batched_chunks_equal_single_chunks(tiny_models):
    ref = golden.reference("pipeline_chunk")
    gen = _generator(tiny_models, steps=2)
    faces2 = torch.stack([ref["faces_uint8"], ref["faces_uint8"].flip(0)])
    audio2 = torch.stack([ref["audio_embeds"], ref["audio_embeds"].flip(0)])
    both = gen.generate(faces2, audio2, ref["init_noise"])
    for i in range(2):
        single = gen.generate(faces2[i], audio2[i], ref["init_noise"])
        torch.testing.assert_close(both.output[i], single.output, atol=2e-4, rtol=1e-4)


def test_seeded_noise_is_deterministic_and_guidance_one_skips_cfg(tiny_models):
    a, b = initial_noise(7, 8), initial_noise(7, 8)
    assert torch.equal(a, b) and a.shape == (1, 4, 1, 8, 8)
    assert not torch.equal(a, initial_noise(8, 8))
    gen = _generator(tiny_models, guidance_scale=1.0, steps=1)
    assert not gen.do_cfg
    ref = golden.reference("pipeline_chunk")
    out = gen.generate(ref["faces_uint8"], ref["audio_embeds"], a)
    assert torch.isfinite(out.output).all()
    # Pixels the mask keeps are the input's.
    keep = ref["mask"][0] == 1
    pixels = ref["faces_uint8"].float() / 127.5 - 1
    torch.testing.assert_close(out.output[..., keep], pixels[..., keep])
