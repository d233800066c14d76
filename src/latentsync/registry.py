"""Named implementations imported only when asked for: face-detector backends, data stages.

A registry is a plain dict ``name -> "package.module:Class"``. Reading it imports nothing, so a run or
a Dask worker loads only the backend or stage it uses, and the names serve ``--help`` and the app's
menus as they are. An unknown name is one ConfigError that lists the choices.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping

from latentsync.errors import ConfigError

Registry = Mapping[str, str]


def check_names(registry: Registry, names: Iterable[str], what: str, also: Iterable[str] = ()) -> None:
    """ConfigError naming every one of ``names`` that is neither registered nor in ``also``."""
    choices = [*also, *registry]
    unknown = [repr(name) for name in names if name not in choices]
    if unknown:
        raise ConfigError(f"unknown {what} {', '.join(unknown)}: choose one of {', '.join(choices)}")


def load_class(registry: Registry, name: str, what: str) -> type:
    """The class registered as ``name``, its module imported now."""
    check_names(registry, [name], what)
    module, _, attribute = registry[name].partition(":")
    return getattr(importlib.import_module(module), attribute)
