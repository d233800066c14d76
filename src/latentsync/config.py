"""Packaged configs, selectable by name (``stage2_512``) or by a YAML path."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from latentsync.errors import ConfigError

UNET_CONFIGS = ("stage1", "stage1_512", "stage2", "stage2_512", "stage2_efficient")
SYNCNET_CONFIGS = ("syncnet_16_pixel_attn", "syncnet_16_pixel", "syncnet_16_latent")
_KIND_DIRS = {"unet": "unet", "syncnet": "syncnet"}


def packaged_path(*parts: str) -> Path:
    """Path of a file shipped in ``latentsync/configs``."""
    return Path(str(resources.files("latentsync").joinpath("configs", *parts)))


def available_configs(kind: str) -> list[str]:
    folder = packaged_path(_KIND_DIRS[kind])
    return sorted(p.stem for p in folder.glob("*.yaml"))


def resolve_config_path(name_or_path: str | Path, kind: str) -> Path:
    """A packaged config name, or a path to a YAML file."""
    text = str(name_or_path)
    candidate = Path(text).expanduser()
    if candidate.suffix in (".yaml", ".yml") or candidate.exists():
        if candidate.is_file():
            return candidate
        # The original's paths (configs/unet/stage2_512.yaml) name a packaged config.
        packaged = packaged_path(_KIND_DIRS[kind], candidate.name)
        if candidate.parent.name == _KIND_DIRS[kind] and packaged.is_file():
            return packaged
        raise ConfigError(f"config file not found: {candidate}")
    stem = text.removeprefix("unet_") if kind == "unet" else text
    packaged = packaged_path(_KIND_DIRS[kind], f"{stem}.yaml")
    if not packaged.is_file():
        names = ", ".join(available_configs(kind))
        raise ConfigError(f"unknown {kind} config '{text}': use one of {names} or a path to a .yaml file")
    return packaged


def load_config(name_or_path: str | Path, kind: str, overrides: list[str] | None = None) -> DictConfig:
    """Load a UNet or SyncNet config; ``overrides`` are ``key=value`` dotlist items."""
    path = resolve_config_path(name_or_path, kind)
    try:
        cfg = OmegaConf.load(path)
    except Exception as exc:  # yaml errors come in many types
        raise ConfigError(f"cannot read config {path}: {exc}") from exc
    if not isinstance(cfg, DictConfig) or "model" not in cfg:
        raise ConfigError(f"config {path} has no 'model' section")
    if overrides:
        try:
            cfg = OmegaConf.merge(cfg, OmegaConf.from_dotlist(list(overrides)))
        except Exception as exc:
            raise ConfigError(f"bad override in {overrides}: {exc}") from exc
    return cfg


def to_plain(section: Any) -> dict:
    """A config section as plain Python containers (for ``from_config``)."""
    if isinstance(section, DictConfig):
        return OmegaConf.to_container(section, resolve=True)  # type: ignore[return-value]
    return dict(section)


def scheduler_config() -> dict:
    return json.loads(packaged_path("scheduler_config.json").read_text())


def audio_config() -> DictConfig:
    return OmegaConf.load(packaged_path("audio.yaml"))
