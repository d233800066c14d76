"""Where the auxiliary weights of the sync and quality stages are looked up."""

from __future__ import annotations

import os
from pathlib import Path

from latentsync.errors import MissingWeightsError


def aux_search_dirs(aux_dir: str | Path | None) -> list[Path]:
    """``--aux-dir``, then ``$LATENTSYNC_CHECKPOINTS/auxiliary``, then ``./checkpoints/auxiliary``."""
    dirs = []
    if aux_dir:
        dirs.append(Path(aux_dir).expanduser())
    env = os.environ.get("LATENTSYNC_CHECKPOINTS")
    if env:
        dirs.append(Path(env).expanduser() / "auxiliary")
    dirs.append(Path("checkpoints") / "auxiliary")
    return dirs


def resolve_aux_weights(needed: dict[str, list[str]], aux_dir: str | Path | None) -> dict[str, str]:
    """Absolute paths of the files each stage needs; one error naming every missing file.

    ``needed`` maps a stage name to its file names.
    """
    found: dict[str, str] = {}
    missing: list[tuple[str, str]] = []
    dirs = aux_search_dirs(aux_dir)
    for stage, names in needed.items():
        for name in names:
            hit = next((d / name for d in dirs if (d / name).is_file()), None)
            if hit is None:
                where = ", ".join(str(d) for d in dirs)
                missing.append(
                    (
                        f"{name} for stage '{stage}' (looked in {where})",
                        f"`latentsync download --auxiliary`, or `--skip-stage {stage}`",
                    )
                )
            else:
                found[name] = str(hit.resolve())
    if missing:
        raise MissingWeightsError(missing)
    return found
