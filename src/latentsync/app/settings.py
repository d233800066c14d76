"""What the server operator decided when starting the app (flags and documented environment)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from latentsync.errors import ConfigError
from latentsync.pipeline.options import option_default

MIN_STEPS_ENV = "LATENTSYNC_APP_MIN_STEPS"  # lowers the steps slider's minimum (tests use 1)
UI_MIN_STEPS, UI_MAX_STEPS = 10, 50
UI_DEFAULT_STEPS = option_default("steps")


@dataclass
class AppSettings:
    host: str = "127.0.0.1"
    port: int = 7860
    share: bool = False
    auth: tuple[str, str] | None = None
    max_upload_mb: int = 2048
    model: str = option_default("model")
    unet_config: str | None = None
    unet_checkpoint: str | None = None
    vae: str | None = None
    whisper: str | None = None
    device: str = option_default("device")
    dtype: str = option_default("dtype")
    aux_dir: str | None = None  # --aux-dir: auxiliary weights (face models, enhancers)
    offload: str = option_default(
        "offload"
    )  # memory switches every job of this server uses (see `infer --offload`)
    low_vram: bool = False
    vae_slicing: bool = False
    vae_tiling: bool = False
    temp_root: Path | None = None  # uploads, jobs and results; a fresh temp dir when None
    keep_results_seconds: int = 3600  # finished jobs' files are removed after this

    @property
    def min_steps(self) -> int:
        raw = os.environ.get(MIN_STEPS_ENV, "").strip()
        if not raw:
            return UI_MIN_STEPS
        try:
            value = int(raw)
        except ValueError as exc:
            raise ConfigError(f"{MIN_STEPS_ENV} must be an integer, got {raw!r}") from exc
        if not 1 <= value <= UI_MAX_STEPS:
            raise ConfigError(f"{MIN_STEPS_ENV} must be between 1 and {UI_MAX_STEPS}, got {value}")
        return value

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024


def parse_auth(value: str | None) -> tuple[str, str] | None:
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise ConfigError("--auth must look like user:password")
    return user, password
