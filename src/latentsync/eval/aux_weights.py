"""Auxiliary weights of the evaluation commands: ``--aux-dir`` first, then the shared resolver."""

from __future__ import annotations

from pathlib import Path

from latentsync.errors import MissingWeightsError
from latentsync.weights import auxiliary_file, resolve


def resolve_aux(keys: list[str], aux_dir: str | Path | None = None) -> dict[str, Path]:
    """Paths of the auxiliary files ``keys`` (e.g. ``syncnet_v2``, ``sfd_face``, ``koniq``, ``i3d``).

    ``aux_dir`` may hold the files flat (``syncnet_v2.model``) or as ``auxiliary/...``. Anything
    not there goes through :func:`latentsync.weights.resolve` (checkpoints dirs, HF cache,
    download); what is still missing is one MissingWeightsError naming every file.
    """
    found: dict[str, Path] = {}
    rest = []
    for key in keys:
        spec = auxiliary_file(key)
        hit = None
        if aux_dir:
            folder = Path(aux_dir).expanduser()
            hit = next(
                (c for c in (folder / Path(spec.filename).name, folder / spec.filename) if c.is_file()), None
            )
        if hit is not None:
            found[key] = hit
        else:
            rest.append(spec)
    if not rest:
        return found
    try:
        found.update(resolve(rest))
    except MissingWeightsError as exc:
        if not aux_dir:
            raise
        names = ", ".join(Path(spec.filename).name for spec in rest)
        raise MissingWeightsError(exc.missing, message=f"{names} not in --aux-dir {aux_dir}; {exc}") from None
    return found
