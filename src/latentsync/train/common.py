"""Config helpers both trainers use: output folder, weight paths, data loader."""

from __future__ import annotations

import logging
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from latentsync import weights
from latentsync.errors import MissingWeightsError

logger = logging.getLogger(__name__)


def setting(config: DictConfig, dotted: str, default=None):
    """``config.a.b`` or ``default`` when the key is absent, null or empty."""
    value = OmegaConf.select(config, dotted, default=None)
    return default if value is None or value == "" else value


def output_dir(config: DictConfig) -> Path:
    path = Path(str(setting(config, "data.train_output_dir", "outputs/train")))
    path.mkdir(parents=True, exist_ok=True)
    return path


def aux_weight(config: DictConfig, key: str, aux_key: str, disable_hint: str = "") -> Path:
    """An explicit config path, else the shared resolver (``ckpt.aux_dir`` / ``--aux-dir``, checkpoints
    dirs, HF cache, download); missing, one error with the fix and how to train without it."""
    given = setting(config, key)
    if given:
        return Path(str(given))
    try:
        return weights.resolve_aux([aux_key], setting(config, "ckpt.aux_dir"))[aux_key]
    except MissingWeightsError as exc:
        raise MissingWeightsError(exc.missing, f"{exc} (or set {key}){disable_hint}") from None


def model_weight(config: DictConfig, key: str, spec_key: str, needed_for: str, disable_hint: str) -> Path:
    """VAE / Whisper path: config key, else the weights resolver (local or download)."""
    specs = [s for s in weights.model_files() if s.key == spec_key]
    try:
        return weights.resolve(specs, {spec_key: setting(config, key)})[spec_key]
    except MissingWeightsError as exc:
        raise MissingWeightsError(
            exc.missing, f"{needed_for} needs {spec_key} weights: set {key} ({exc}){disable_hint}"
        ) from exc


def save_config(config: DictConfig, out: Path, name: str) -> None:
    (out / name).write_text(OmegaConf.to_yaml(config))
