"""Runs several ``latentsync`` command lines through the real CLI entry point in one process.

Python and torch start-up costs ~3 s per process on the test machine; the bad-input matrix has
a dozen command lines, so they share one process. Each still goes through ``latentsync.cli.main``
exactly as the console script does, with its own stderr and exit code. Anything escaping ``main``
is recorded with its traceback (which the tests then report as a failure).

Usage: ``python -m tests.robustness.cli_batch CASES.json RESULTS.json`` where CASES maps a case
name to ``{"argv": [...], "simulate_disk_full": bool}``; RESULTS maps it to
``{"code", "stderr", "stdout"}``. ``simulate_disk_full`` (only for machines where a small tmpfs
cannot be mounted) makes the video encoder's writes fail with ENOSPC, as a full disk does.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import sys
import traceback


def run_case(argv: list[str]) -> dict:
    from latentsync.cli import main

    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:  # noqa: BLE001 - recorded for the test to show
            traceback.print_exc()
            code = -1
    return {"code": code, "stderr": err.getvalue(), "stdout": out.getvalue()}


@contextlib.contextmanager
def disk_full_when_encoding(enabled: bool):
    """Make every encoded-frame write fail the way a full disk does."""
    if not enabled:
        yield
        return
    from latentsync.video.writer import VideoWriter

    original = VideoWriter.write

    def full(self, frame_rgb):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.path))

    VideoWriter.write = full
    try:
        yield
    finally:
        VideoWriter.write = original


def main() -> int:
    cases_path, results_path = sys.argv[1], sys.argv[2]
    with open(cases_path) as f:
        cases = json.load(f)
    results = {}
    for name, case in cases.items():
        with disk_full_when_encoding(case.get("simulate_disk_full", False)):
            results[name] = run_case(case["argv"])
    with open(results_path, "w") as f:
        json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
