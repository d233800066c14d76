"""What a job is given, checked before any model loads: the two inputs, the output path, the enhancer file."""

from __future__ import annotations

import os
from pathlib import Path

from latentsync.audio.io import probe_audio
from latentsync.errors import InputError
from latentsync.face.enhancer import FaceEnhancer, enhancer_path
from latentsync.face.installed import check_detector_installed
from latentsync.pipeline.options import InferenceOptions
from latentsync.video.probe import probe_video


def check_inputs(options: InferenceOptions):
    """Probe both inputs (clear one-line errors) before any model is loaded."""

    check_detector_installed(options.face_detector)
    video_info = probe_video(options.video)
    audio_info = probe_audio(options.audio)
    out = options.output
    if out.exists() and out.is_dir():
        raise InputError(f"output path is a directory: {out}")
    for src in (options.video, options.audio):
        if out.resolve() == src.resolve():
            raise InputError(f"output path must differ from the input {src}")
    if not out.parent.exists():
        raise InputError(f"output directory does not exist: {out.parent}")
    if not out.parent.is_dir():
        raise InputError(f"output folder is not a directory: {out.parent}")
    if not os.access(out.parent, os.W_OK):
        raise InputError(f"output directory is not writable: {out.parent}")
    return video_info, audio_info


def enhancer_weights(options: InferenceOptions) -> Path | None:
    if not options.enhancer:
        return None

    return enhancer_path(options.enhancer, aux_dir=options.aux_dir)


def enhancer_for(options: InferenceOptions, models):
    """The face restorer of ``--enhancer`` (face/enhancer.py) on ``models``' device and dtype, or None."""
    weights = enhancer_weights(options)
    if weights is None:
        return None

    return FaceEnhancer(weights, options.enhancer_strength, models.device, models.dtype)
