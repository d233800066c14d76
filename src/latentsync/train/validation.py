"""UNet validation every ``run.validation_steps``: lip-sync ``data.val_video_path`` to
``data.val_audio_path`` with the model being trained, keep the mp4, and log its SyncNet
confidence when the evaluation weights (syncnet_v2.model, sfd_face.pth) are present."""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from latentsync import weights
from latentsync.audio.io import read_pcm16
from latentsync.audio.whisper import WhisperFeatures
from latentsync.data.sync import default_device, sync_models
from latentsync.errors import MissingWeightsError
from latentsync.eval.sync_confidence import clip_sync
from latentsync.face.s3fd_detect import detect_faces
from latentsync.pipeline.model_loading import InferenceModels
from latentsync.pipeline.options import InferenceOptions
from latentsync.pipeline.runner import run_inference
from latentsync.train.common import setting
from latentsync.video.reader import read_all_frames

logger = logging.getLogger(__name__)


def sync_confidence(video: Path, aux_dir: str | None = None) -> float | None:
    """SyncNet confidence of a lip-synced video, or None (with a log line) without the eval weights."""

    try:
        found = weights.resolve_aux(["syncnet_v2", "sfd_face"], aux_dir, allow_download=False)
    except MissingWeightsError as exc:
        logger.info("sync confidence skipped: %s", exc)
        return None
    syncnet_path, s3fd_path = found["syncnet_v2"], found["sfd_face"]

    syncnet, s3fd = sync_models(str(syncnet_path), str(s3fd_path), default_device())
    result = clip_sync(
        syncnet,
        lambda frame: detect_faces(s3fd, frame, conf_threshold=0.9, scales=(0.25,)),
        read_all_frames(video),
        read_pcm16(video),
        min_track=10,
    )
    return None if result is None else float(result.confidence)


class UNetValidator:
    """Called after every optimizer step; acts on multiples of ``run.validation_steps`` on the main process."""

    def __init__(self, trainer, loop):
        self.trainer = trainer
        self.loop = loop
        config = trainer.config
        self.every = int(setting(config, "run.validation_steps", 0))
        self.video = setting(config, "data.val_video_path")
        self.audio = setting(config, "data.val_audio_path")
        if self.every > 0 and not (self.video and self.audio):
            logger.info("no UNet validation: data.val_video_path / data.val_audio_path not set")
            self.every = 0
        self.confidences: list[float] = []

    def __call__(self, step: int) -> None:
        if self.every <= 0 or step % self.every:
            return
        acc = self.trainer.accelerator
        if acc.is_main_process:
            try:
                self.validate(step)
            except Exception as exc:  # noqa: BLE001 - a failed preview must not end a long training run
                logger.warning("validation at step %d failed: %s: %s", step, type(exc).__name__, exc)
        acc.wait_for_everyone()

    def validate(self, step: int) -> Path:

        trainer = self.trainer
        out = trainer.out / "val_videos" / f"val_video_{step}.mp4"
        out.parent.mkdir(parents=True, exist_ok=True)
        unet = trainer.accelerator.unwrap_model(self.loop.model)
        was_training = unet.training
        unet.eval()
        models = InferenceModels(
            unet=unet,
            vae=trainer.vae,
            whisper=WhisperFeatures(trainer.whisper_path, device=str(trainer.device)),
            config=trainer.config,
            device=trainer.device,
            dtype=torch.float32,
        )
        options = InferenceOptions(
            video=Path(self.video),
            audio=Path(self.audio),
            output=out,
            unet_config=str(trainer.config_path) if trainer.config_path else None,
            steps=int(setting(trainer.config, "run.inference_steps", 20)),
            guidance_scale=float(setting(trainer.config, "run.guidance_scale", 1.5)),
            seed=trainer.seed,
            device=str(trainer.device.type),
            resume=False,
            quiet=True,
        )
        try:
            with torch.no_grad():
                run_inference(options, models=models)
        finally:
            unet.train(was_training)
        logger.info("validation video: %s", out)
        confidence = sync_confidence(out, setting(trainer.config, "ckpt.aux_dir"))
        if confidence is not None:
            self.confidences.append(confidence)
            self.loop.history.val_steps.append(step)
            self.loop.history.val_values.setdefault("sync confidence", []).append(confidence)
            trainer.accelerator.log({"val_sync_confidence": confidence}, step=step)
            logger.info("validation sync confidence at step %d: %.3f", step, confidence)
        return out
