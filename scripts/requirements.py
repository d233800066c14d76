"""Print the installed latentsync's requirements for the given extras, one per line, minus some names.

``scripts/bootstrap.sh`` installs these, then openai-whisper with ``--no-deps``: whisper's metadata
pulls triton on x86-64 Linux, which a CPU environment never uses. Reading the installed metadata
(not pyproject.toml) keeps one source of truth and needs no TOML parser on Python 3.10.
Usage: python scripts/requirements.py EXTRA[,EXTRA...] [--exclude NAME ...]
"""

from __future__ import annotations

import argparse
import re
from importlib.metadata import requires

EXTRA_MARKER = re.compile(r"""^extra\s*==\s*["']([^"']+)["']$""")


def requirement_name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[(@]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def select(lines: list[str], extras: set[str], exclude: set[str]) -> list[str]:
    """Core requirements (markers kept for pip to evaluate) plus those of ``extras`` (marker dropped)."""
    chosen = []
    for line in lines:
        spec, _, marker = (part.strip() for part in line.partition(";"))
        if requirement_name(spec) in exclude:
            continue
        if "extra" not in marker:
            chosen.append(line.strip())
            continue
        match = EXTRA_MARKER.match(marker)
        if match is None:
            raise SystemExit(f"cannot read the marker of {line!r}: extras must not carry other markers")
        if match.group(1) in extras:
            chosen.append(spec)
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("extras", help="comma-separated extras, e.g. app,data,train,dev")
    parser.add_argument("--exclude", action="append", default=[], help="requirement name to leave out")
    args = parser.parse_args()
    extras = {e.strip() for e in args.extras.split(",") if e.strip()}
    exclude = {name.lower().replace("_", "-") for name in args.exclude}
    print("\n".join(select(requires("latentsync") or [], extras, exclude)))


if __name__ == "__main__":
    main()
