"""Turning any failure of a job into one sentence a person can act on (details go to the log)."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from latentsync.errors import (
    CheckpointError,
    ConfigError,
    InputError,
    LatentSyncError,
    MissingWeightsError,
)
from latentsync.pipeline.oom import as_out_of_memory
from latentsync.pipeline.threads import Cancelled

logger = logging.getLogger(__name__)

NO_FACE = (
    "No face was found in any frame of the video, so nothing was lip-synced: "
    "use a video where a face is clearly visible."
)
INTERNAL = "Something went wrong on the server while lip-syncing; the details are in the server log."


def missing_weights_message(exc: MissingWeightsError) -> str:
    commands = sorted(set(re.findall(r"`(latentsync download[^`]*)`", str(exc)))) or ["latentsync download"]
    what = ", ".join(what.split(" (")[0] for what, _ in exc.missing) or "the model weights"
    return (
        f"The model weights are not on this server ({what}): run `{'` and `'.join(commands)}` "
        "on the server, then try again."
    )


def _without_paths(text: str, names: dict[Path, str]) -> str:
    """Server paths (temp dirs) mean nothing to the user: name the upload instead."""
    for path, name in names.items():
        text = text.replace(str(path), name)
    return text


def input_message(exc: InputError, names: dict[Path, str]) -> str:
    text = str(exc)
    detail = re.sub(r"\s*\([^()]*\)\s*$", "", text)  # drop a trailing decoder detail "(...)"
    for path, name in names.items():
        if str(path) in text:
            reason = detail.replace(str(path), "").strip(" :")
            return f"Could not use the {name}: {reason}."
    return _without_paths(detail, names).rstrip(".") + "."


def friendly_message(exc: BaseException, names: dict[Path, str] | None = None) -> str:
    """One sentence for the page; ``names`` maps input paths to words like 'video “a.mp4”'."""
    names = names or {}
    if isinstance(exc, Cancelled):
        return "Cancelled."
    if isinstance(exc, MissingWeightsError):
        return missing_weights_message(exc)
    if isinstance(exc, InputError):
        return input_message(exc, names)
    if isinstance(exc, (ConfigError, CheckpointError, LatentSyncError)):
        return _without_paths(str(exc), names).rstrip(".") + "."

    oom = as_out_of_memory(exc, "this job") if isinstance(exc, (MemoryError, RuntimeError)) else None
    if oom is not None:  # the CLI's sentence, so both say the same thing
        return str(oom).rstrip(".") + "."
    logger.error("lip-sync job failed", exc_info=exc)
    return INTERNAL
