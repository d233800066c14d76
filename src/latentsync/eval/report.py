"""An evaluation run's report folder: ``report.json`` (every number), ``index.html`` and plots.

JSON stays strict: non-finite floats (PSNR of identical frames) are written as the strings
``"inf"``, ``"-inf"`` and ``"nan"``. Plots use matplotlib's Agg backend (no display needed).
"""

from __future__ import annotations

import html
import json
import logging
import math
import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

REPORT_JSON = "report.json"
REPORT_HTML = "index.html"


def default_report_dir() -> Path:
    return Path("eval-report") / datetime.now().strftime("%Y%m%d-%H%M%S")


def strict_json(value: Any) -> Any:
    """``value`` with non-finite floats replaced by strings, recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {str(k): strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(v) for v in value]
    return value


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "video"


def plot_sync_curve(
    curve: Sequence[float], offsets: Sequence[int], chosen: int, title: str, path: Path
) -> Path:
    """Confidence (median distance - distance) at each audio offset, the chosen offset marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    median = sorted(curve)[len(curve) // 2]
    confidence = [median - d for d in curve]
    figure, axes = plt.subplots(figsize=(6.4, 3.6))
    try:
        axes.plot(offsets, confidence, marker="o", markersize=3, linewidth=1.2)
        axes.axvline(chosen, color="tab:red", linestyle="--", linewidth=1, label=f"offset {chosen}")
        axes.axhline(0, color="grey", linewidth=0.6)
        axes.set_xlabel("audio offset (frames)")
        axes.set_ylabel("confidence")
        axes.set_title(title, fontsize=9)
        axes.legend(loc="upper right", fontsize=8)
        figure.tight_layout()
        figure.savefig(path, dpi=100)
    finally:
        plt.close(figure)
    return path


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return html.escape(f"{value:.4f}" if math.isfinite(value) else str(value))
    return html.escape(str(value))


def html_table(rows: list[dict]) -> str:
    if not rows:
        return "<p>no rows</p>"
    columns = list(dict.fromkeys(key for row in rows for key in row))
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(row.get(c, ''))}</td>" for c in columns) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def write_report(
    report_dir: str | Path,
    title: str,
    payload: dict,
    rows: list[dict],
    images: Sequence[tuple[str, str]] = (),
) -> Path:
    """Write ``report.json`` (``payload``) and ``index.html`` (a table of ``rows`` and the images).

    ``images`` are (caption, file name inside ``report_dir``). Returns the report folder.
    """
    folder = Path(report_dir)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / REPORT_JSON).write_text(json.dumps(strict_json(payload), indent=2) + "\n")
    figures = "".join(
        f'<figure><img src="{html.escape(name)}" alt="{html.escape(caption)}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        for caption, name in images
    )
    page = (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}"
        "figure{display:inline-block;margin:1em}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>{html_table(rows)}"
        f'<p>All numbers: <a href="{REPORT_JSON}">{REPORT_JSON}</a></p>{figures}</body></html>\n'
    )
    (folder / REPORT_HTML).write_text(page)
    logger.info("report written to %s", folder / REPORT_HTML)
    return folder
