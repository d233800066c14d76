"""Print one closing line for ./test.sh's pytest runs: the main suite and the enhancer venv's part.

Each run ends with its own pytest summary; this adds them up from their JUnit XML reports so the
last line says what the whole suite did. Usage: python scripts/test_totals.py REPORT.xml ...
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def totals(reports: list[Path]) -> tuple[int, int, int]:
    """(passed, failed or errored, skipped) over every test suite in ``reports``."""
    passed = failed = skipped = 0
    for report in reports:
        root = ET.parse(report).getroot()
        suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
        for suite in suites:
            tests, skips = int(suite.get("tests", 0)), int(suite.get("skipped", 0))
            bad = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
            passed += tests - bad - skips
            failed += bad
            skipped += skips
    return passed, failed, skipped


def main() -> None:
    reports = [Path(arg) for arg in sys.argv[1:] if Path(arg).is_file()]
    if not reports:
        return
    passed, failed, skipped = totals(reports)
    print(f"total: {passed} passed, {failed} failed, {skipped} skipped")


if __name__ == "__main__":
    main()
