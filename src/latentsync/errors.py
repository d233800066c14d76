"""Errors that the CLI turns into one clear line and exit code 2 (never a traceback)."""

from __future__ import annotations


class LatentSyncError(Exception):
    """A problem the user can fix (bad input, missing weights, bad config)."""

    exit_code = 2


class InputError(LatentSyncError):
    """An input file is missing, unreadable or lacks the stream we need."""


class ConfigError(LatentSyncError):
    """A config name or file cannot be used."""


class CheckpointError(LatentSyncError):
    """A checkpoint does not fit the model it is loaded into."""


class MissingPackageError(LatentSyncError):
    """An optional package the chosen feature needs is not installed (e.g. no face detector)."""


class MissingWeightsError(LatentSyncError):
    """Weights are not on disk and cannot be downloaded (offline, or hub unreachable)."""

    def __init__(self, missing: list[tuple[str, str]], message: str | None = None, reason: str = ""):
        self.missing = missing
        self.reason = (
            reason  # why nothing could be downloaded ("offline mode is on", "cannot reach ..."), if known
        )
        lines = "; ".join(f"{what} (supply with {how})" for what, how in missing)
        super().__init__(message or f"missing weights: {lines}")
