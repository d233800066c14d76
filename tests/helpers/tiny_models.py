"""Writes tiny deterministic-weight models in the published file formats.

The same loading code that reads the published checkpoints reads these, offline:
``unet_tiny.yaml`` (model + data sections, resolution 64), ``unet_tiny.pt``
(``{"state_dict", "global_step"}``), a diffusers VAE folder ``vae/``, an OpenAI-format
``whisper_tiny.pt`` (``{"dims", "model_state_dict"}``) and ``syncnet_v2.model``.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
import yaml

from latentsync.pipeline.options import InferenceOptions
from tests.helpers import golden

WHISPER_TINY_DIMS = dict(
    n_mels=80,
    n_audio_ctx=1500,
    n_audio_state=384,
    n_audio_head=6,
    n_audio_layer=4,
    n_vocab=51865,
    n_text_ctx=448,
    n_text_state=384,
    n_text_head=6,
    n_text_layer=4,
)


def temporal_pe(max_len: int, dim: int) -> torch.Tensor:
    """Sinusoidal table of the motion modules' ``pos_encoder.pe`` buffers, shape [1, max_len, dim]."""
    pos = torch.arange(max_len).unsqueeze(1)
    freq = torch.exp(torch.arange(0, dim, 2) * (-math.log(10000.0) / dim))
    table = torch.zeros(1, max_len, dim)
    table[0, :, 0::2] = torch.sin(pos * freq)
    table[0, :, 1::2] = torch.cos(pos * freq)
    return table


def whisper_positions(length: int, channels: int) -> torch.Tensor:
    """Whisper's sinusoidal encoder positions (a buffer in its checkpoints)."""
    step = math.log(10000) / (channels // 2 - 1)
    inv = torch.exp(-step * torch.arange(channels // 2))
    t = torch.arange(length)[:, None] * inv[None, :]
    return torch.cat([torch.sin(t), torch.cos(t)], dim=1)


def unet_state(schema_name: str) -> dict[str, torch.Tensor]:
    """Deterministic UNet weights plus the ``pe`` buffers the checkpoints carry."""
    sch = golden.schema(schema_name)
    state = golden.fill(schema_name)
    for key, info in sch.items():
        if info["kind"] == "buffer" and key.endswith(".pe"):
            state[key] = temporal_pe(info["shape"][1], info["shape"][2])
    return state


def syncnet_v2_state() -> dict[str, torch.Tensor]:
    sch = golden.schema("syncnet_v2")
    state = golden.fill("syncnet_v2")
    for key, info in sch.items():
        if info["kind"] == "buffer":
            if key.endswith("running_var"):
                state[key] = torch.ones(info["shape"])
            elif key.endswith("num_batches_tracked"):
                state[key] = torch.zeros(info["shape"], dtype=torch.long)
            else:
                state[key] = torch.zeros(info["shape"])
    return state


def write_tiny_models(out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": unet_state("unet_tiny"), "global_step": 0}, out / "unet_tiny.pt")
    model = golden.golden_json("unet_tiny.config.json")
    ref = golden.golden_json("reference_configs/unet_stage2_512.json")
    data = dict(ref["data"], resolution=64, num_frames=16)
    data.pop("mask_image_path", None)
    data.pop("syncnet_config_path", None)
    (out / "unet_tiny.yaml").write_text(yaml.safe_dump({"model": model, "data": data, "run": ref["run"]}))

    from diffusers import AutoencoderKL

    vae = AutoencoderKL(**golden.golden_json("vae_tiny.config.json"))
    vae.load_state_dict(golden.fill("vae_tiny"), strict=True)
    vae.save_pretrained(out / "vae")

    wstate = golden.fill("whisper_tiny")
    wstate["encoder.positional_embedding"] = whisper_positions(1500, 384)
    torch.save({"dims": WHISPER_TINY_DIMS, "model_state_dict": wstate}, out / "whisper_tiny.pt")

    torch.save(syncnet_v2_state(), out / "syncnet_v2.model")
    return out


def tiny_model_args(folder: Path, unet_checkpoint: Path | None = None) -> list[str]:
    """CLI flags that point ``infer``/``app``/``batch`` at the tiny models in ``folder``."""
    return [
        "--unet-config",
        str(folder / "unet_tiny.yaml"),
        "--unet-checkpoint",
        str(unet_checkpoint or folder / "unet_tiny.pt"),
        "--vae",
        str(folder / "vae"),
        "--whisper",
        str(folder / "whisper_tiny.pt"),
        "--device",
        "cpu",
    ]


def tiny_options(tiny_models: Path, video: Path, audio: Path, output: Path, **kw) -> InferenceOptions:
    """Options for one in-process run on the tiny models (1 step, no progress bar unless ``kw`` says)."""
    kw.setdefault("steps", 1)
    kw.setdefault("quiet", True)
    return InferenceOptions(
        video=video,
        audio=audio,
        output=output,
        unet_config=str(tiny_models / "unet_tiny.yaml"),
        unet_checkpoint=str(tiny_models / "unet_tiny.pt"),
        vae=str(tiny_models / "vae"),
        whisper=str(tiny_models / "whisper_tiny.pt"),
        device="cpu",
        **kw,
    )


def tiny_infer_argv(
    folder: Path,
    video: Path,
    audio: Path,
    output: Path | None,
    *extra: str,
    unet_checkpoint: Path | None = None,
) -> list[str]:
    """``latentsync infer`` arguments for one job on the tiny models (``output=None``: the caller adds it)."""
    argv = ["infer", "--video", str(video), "--audio", str(audio)]
    if output is not None:
        argv += ["--output", str(output)]
    return [*argv, *extra, *tiny_model_args(folder, unet_checkpoint)]


if __name__ == "__main__":  # python -m tests.helpers.tiny_models OUT_DIR: stand-ins for a demo or infer run
    import sys

    print(write_tiny_models(Path(sys.argv[1])))
