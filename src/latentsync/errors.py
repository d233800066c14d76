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


class OutOfMemory(LatentSyncError):
    """A stage of a run ran out of device (or host) memory; says how much it needed and what fits.

    ``needs_gb``/``free_gb``/``advice`` are filled in by whoever knows the run's settings (the runner
    asks the memory estimate), so the guard around a stage only has to name the stage.
    """

    def __init__(
        self,
        stage: str,
        memory: str = "GPU",
        needs_gb: float | None = None,
        free_gb: float | None = None,
        advice: str | None = None,
    ):
        self.stage, self.memory = stage, memory
        self.needs_gb, self.free_gb, self.advice = needs_gb, free_gb, advice
        super().__init__(stage)

    def __str__(self) -> str:
        amounts = ""
        if self.needs_gb is not None and self.free_gb is not None:
            amounts = f" (needs ~{self.needs_gb:.1f} GB, {self.free_gb:.1f} free)"
        elif self.needs_gb is not None:
            amounts = f" (needs ~{self.needs_gb:.1f} GB)"
        default = (
            "--low-vram or --batch-chunks 1" if self.memory == "GPU" else "--batch-chunks 1, or more RAM"
        )
        advice = self.advice or default
        return f"out of {self.memory} memory at {self.stage}{amounts}: try {advice}"
