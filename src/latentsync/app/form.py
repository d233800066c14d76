"""The page's inputs, checked and turned into InferenceOptions (no Gradio here: testable alone)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from latentsync.app.settings import UI_MAX_STEPS, AppSettings
from latentsync.errors import InputError
from latentsync.face.blend_region import BLEND_MODES, DEFAULT_BLEND
from latentsync.face.enhancer import ENHANCER_NAMES
from latentsync.face.installed import BACKENDS
from latentsync.pipeline.estimate_report import estimate_report
from latentsync.pipeline.options import MODEL_FPS, InferenceOptions, option_default

MODEL_CHOICES = {"LatentSync 1.6": "1.6", "LatentSync 1.5": "1.5"}
CUSTOM_MODEL = "Custom checkpoint (path on the server)"
FACE_LARGEST, FACE_BY_INDEX = "Largest face", "Face by index (0 = leftmost)"
FPS_MODEL = "Same as the source (model at 25 fps)"  # --fps model, the CLI's default
FPS_SOURCE, FPS_25 = "Same as the source (model at the source rate)", "25 fps"
ENHANCER_OFF = "Off"


DEFAULT_DETECTOR = option_default("face_detector")
DETECTOR_CHOICES = [DEFAULT_DETECTOR, *(name for name in BACKENDS if name != DEFAULT_DETECTOR)]
BLEND_CHOICES = [DEFAULT_BLEND, *(mode for mode in BLEND_MODES if mode != DEFAULT_BLEND)]
ENHANCER_CHOICES = [ENHANCER_OFF, *ENHANCER_NAMES]
DEFAULT_ENHANCER_STRENGTH = option_default("enhancer_strength")
CHECKPOINT_SUFFIXES = (".pt", ".pth", ".ckpt", ".bin", ".safetensors")


@dataclass
class FormValues:
    video: str | None
    audio: str | None
    steps: float
    guidance_scale: float
    seed: float
    deepcache: bool
    face_choice: str
    face_index: float | None
    fps_choice: str
    crf: float
    model_choice: str
    checkpoint_path: str
    face_detector: str = DEFAULT_DETECTOR
    blend: str = DEFAULT_BLEND
    enhancer: str = ENHANCER_OFF
    enhancer_strength: float = DEFAULT_ENHANCER_STRENGTH


def default_model_choice(settings: AppSettings) -> str:
    if settings.unet_checkpoint:
        return CUSTOM_MODEL
    return next(label for label, version in MODEL_CHOICES.items() if version == settings.model)


def checked_checkpoint(text: str) -> str:
    """A custom checkpoint must already be a weights file on the server (never an upload)."""
    path = Path(text.strip()).expanduser() if text and text.strip() else None
    if path is None:
        raise InputError("Enter the path of a checkpoint file on the server for the custom model.")
    if not path.is_file():
        raise InputError(f"There is no checkpoint file at “{text.strip()}” on the server.")
    if path.suffix.lower() not in CHECKPOINT_SUFFIXES:
        raise InputError(f"A checkpoint must be a {', '.join(CHECKPOINT_SUFFIXES)} file.")
    return str(path.resolve())


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if value is None or not low <= value <= high:
        raise InputError(f"{name} must be between {low:g} and {high:g}.")


def options_from_form(values: FormValues, settings: AppSettings, output: Path) -> InferenceOptions:
    if not values.video:
        raise InputError("Upload a video first.")
    if not values.audio:
        raise InputError("Upload the driving audio (an audio file or a video with sound) first.")
    _check_range("Inference steps", values.steps, settings.min_steps, UI_MAX_STEPS)
    _check_range("Guidance scale", values.guidance_scale, 1.0, 3.0)
    _check_range("Quality (CRF)", values.crf, 0, 51)
    if values.seed is None or values.seed < 0:
        raise InputError("The seed must be a whole number of 0 or more.")
    face_index = None
    if values.face_choice == FACE_BY_INDEX:
        if values.face_index is None or values.face_index < 0:
            raise InputError("The face index must be 0 or more (0 is the leftmost face).")
        face_index = int(values.face_index)

    _check_range("Enhancer strength", values.enhancer_strength, 0.0, 1.0)
    if values.face_detector not in DETECTOR_CHOICES:
        raise InputError(f"Choose a face detector: {', '.join(DETECTOR_CHOICES)}.")
    if values.blend not in BLEND_MODES:
        raise InputError(f"Choose a blend region: {', '.join(BLEND_MODES)}.")
    if values.enhancer not in ENHANCER_CHOICES:
        raise InputError(f"Choose an enhancer: {', '.join(ENHANCER_CHOICES)}.")

    if values.model_choice == CUSTOM_MODEL:
        model, unet_checkpoint = settings.model, checked_checkpoint(values.checkpoint_path)
        unet_config = settings.unet_config
    else:
        model, unet_checkpoint, unet_config = MODEL_CHOICES[values.model_choice], None, None
    return InferenceOptions(
        video=Path(values.video),
        audio=Path(values.audio),
        output=output,
        model=model,
        unet_config=unet_config,
        unet_checkpoint=unet_checkpoint,
        vae=settings.vae,
        whisper=settings.whisper,
        steps=int(values.steps),
        guidance_scale=float(values.guidance_scale),
        seed=int(values.seed),
        deepcache=bool(values.deepcache),
        device=settings.device,
        dtype=settings.dtype,
        offload=settings.offload,
        low_vram=settings.low_vram,
        vae_slicing=settings.vae_slicing,
        vae_tiling=settings.vae_tiling,
        face_detector=values.face_detector,
        face_index=face_index,
        aux_dir=settings.aux_dir,
        blend=values.blend,
        enhancer=None if values.enhancer == ENHANCER_OFF else values.enhancer,
        enhancer_strength=float(values.enhancer_strength),
        fps=25.0 if values.fps_choice == FPS_25 else None,
        model_fps=None if values.fps_choice == FPS_SOURCE else MODEL_FPS,
        crf=int(values.crf),
        resume=False,
        quiet=True,
    )


def memory_estimate(values: FormValues, settings: AppSettings) -> str:
    """The CLI's ``infer --estimate`` report for the job Generate would start now: the form's model with
    the server's device, dtype and memory switches. Needs no uploads (memory does not depend on them)."""

    stand_in = "estimate"
    values = replace(values, video=values.video or stand_in, audio=values.audio or stand_in)
    return estimate_report(options_from_form(values, settings, Path(stand_in)))
