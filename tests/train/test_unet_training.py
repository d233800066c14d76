"""UNet training on the tiny UNet with every loss on: learning, exact resume, and `latentsync infer`
on a saved checkpoint."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from latentsync.config import load_config
from latentsync.errors import MissingWeightsError
from latentsync.models.unet_io import load_unet, read_unet_state
from latentsync.train.unet_trainer import UNetTrainer
from tests.helpers.golden import MEDIA
from tests.helpers.tiny_models import tiny_infer_argv


def expected_frames(driving) -> int:
    """Lip-sync output length: video frames the driving audio covers at 25 fps."""
    from latentsync.audio.frame_features import num_video_frames
    from latentsync.audio.io import load_audio

    return num_video_frames(len(load_audio(driving)), 25.0)


def objective(trainer, checkpoint, batch) -> float:
    """The training loss of a checkpoint on the trained sample at the (noise, timestep) of steps 1..4."""
    unet = load_unet(trainer.config, checkpoint)
    with torch.no_grad():
        return sum(trainer.losses(unet, batch, micro)[0].item() for micro in range(4)) / 4


def test_unet_trains_with_every_loss_and_resumes_exactly(unet_config, tmp_path, tiny_models):
    trainer = UNetTrainer(load_config(unet_config, "unet"), unet_config)
    assert trainer.lpips is not None and trainer.trepa is not None and trainer.syncnet is not None
    result = trainer.train()
    losses = result.history.train_loss
    assert result.global_step == 4 and len(losses) == 4
    ckpts = tmp_path / "out" / "checkpoints"
    batch = {k: v.unsqueeze(0) for k, v in trainer.dataset[0].items()}
    first, last = (
        objective(trainer, ckpts / "checkpoint-1.pt", batch),
        objective(trainer, ckpts / "checkpoint-4.pt", batch),
    )
    assert last < first, (first, last, losses)

    state, step = read_unet_state(ckpts / "checkpoint-1.pt")
    assert step == 1
    later, _ = read_unet_state(ckpts / "checkpoint-4.pt")
    assert torch.equal(state["conv_in.weight"], later["conv_in.weight"])  # not in trainable_modules
    moved = [k for k in state if "attentions." in k and not torch.equal(state[k], later[k])]
    assert moved, "no attention weight was trained"

    ckpt = ckpts / "checkpoint-2.pt"
    resumed = UNetTrainer(
        load_config(
            unet_config, "unet", [f"ckpt.resume_ckpt_path={ckpt}", f"data.train_output_dir={tmp_path / 'r'}"]
        ),
        unet_config,
    ).train()
    assert resumed.history.train_steps[-2:] == [3, 4]
    assert torch.allclose(
        torch.tensor(resumed.history.train_loss[-2:]), torch.tensor(losses[-2:]), atol=1e-5
    ), (
        resumed.history.train_loss,
        losses,
    )

    # the published-format checkpoint drives inference
    video = tmp_path / "face_clip.mp4"
    from tests.train.face_clips import write_face_clips

    clip = write_face_clips(tmp_path / "val", resolution=256, clip_frames=20, count=1)[0]
    clip.rename(video)
    out = tmp_path / "synced.mp4"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "latentsync",
            *tiny_infer_argv(tiny_models, video, video, out, "--steps", "2", "--quiet", unet_checkpoint=ckpt),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    from latentsync.video.probe import probe_video

    assert probe_video(out).num_frames == expected_frames(video)


def test_missing_loss_weights_name_the_loss_and_the_switch(unet_config, tmp_path):
    config = load_config(unet_config, "unet", [f"ckpt.trepa_ckpt_path={tmp_path / 'none.pth'}"])
    with pytest.raises(MissingWeightsError, match="run.trepa_loss_weight=0"):
        UNetTrainer(config, unet_config)
    config = load_config(unet_config, "unet", [f"ckpt.vgg16_path={tmp_path / 'none.pth'}"])
    with pytest.raises(MissingWeightsError, match="run.perceptual_loss_weight=0"):
        UNetTrainer(config, unet_config)
    config = load_config(unet_config, "unet", [f"ckpt.syncnet_ckpt_path={tmp_path / 'none.pt'}"])
    with pytest.raises(MissingWeightsError, match="run.use_syncnet=false"):
        UNetTrainer(config, unet_config)


def test_validation_writes_a_lipsynced_video(unet_config, tmp_path):
    """One validation pass with the tiny models on a short face video."""
    from tests.train.face_clips import write_face_clips

    clip = write_face_clips(tmp_path / "val", resolution=256, clip_frames=20, count=1)[0]
    config = load_config(
        unet_config,
        "unet",
        [
            "run.max_train_steps=1",
            "run.validation_steps=1",
            f"data.val_video_path={clip}",
            f"data.val_audio_path={clip}",
            "run.trepa_loss_weight=0",
            "run.perceptual_loss_weight=0",
        ],
    )
    result = UNetTrainer(config, unet_config).train()
    video = result.output_dir / "val_videos" / "val_video_1.mp4"
    from latentsync.video.probe import probe_video

    assert probe_video(video).num_frames == expected_frames(clip)
    assert MEDIA.is_dir()
