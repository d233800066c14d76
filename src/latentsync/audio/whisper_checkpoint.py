"""Loading the audio encoder from an OpenAI-format Whisper checkpoint (``tiny.pt``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import torch
from whisper.model import AudioEncoder, ModelDimensions, Whisper

from latentsync.errors import CheckpointError
from latentsync.models.checkpoint_io import load_strict, read_state_file

logger = logging.getLogger(__name__)

_EXPECTED = "an OpenAI Whisper checkpoint such as whisper/tiny.pt ({'dims', 'model_state_dict'})"


def load_whisper_encoder(checkpoint_path: str | Path, device: str | torch.device = "cpu") -> AudioEncoder:
    """The encoder of a Whisper checkpoint, loaded strictly, in eval mode on ``device``.

    The whole model is built so that every key of the file is checked; only the encoder is
    kept, since LatentSync never decodes text.
    """
    path = Path(checkpoint_path)
    if not path.is_file():
        raise CheckpointError(f"Whisper checkpoint not found: {path} (expected {_EXPECTED})")
    state, meta = read_state_file(path, nested_keys=("model_state_dict",))
    dims = meta.get("dims")
    if not isinstance(dims, Mapping):
        raise CheckpointError(
            f"{path} is not a Whisper checkpoint: it has no 'dims' entry (expected {_EXPECTED})"
        )
    try:
        model = Whisper(ModelDimensions(**dims))
    except (TypeError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{path} has unusable Whisper 'dims' {dict(dims)}: {exc}") from exc
    load_strict(
        model,
        state,
        source=f"Whisper checkpoint {path}",
        hint=f"expected {_EXPECTED}",
        optional_missing=("encoder.positional_embedding",),
    )
    encoder = model.encoder.to(device).eval()
    logger.info(
        "loaded Whisper encoder from %s (%d layers, width %d)",
        path,
        dims["n_audio_layer"],
        dims["n_audio_state"],
    )
    return encoder
