"""Feature jump at the 30 s window edges: reference windows vs overlapping windows.

Prints the mean |f[t+1] - f[t]| (over the 5 x 384 features) at steps 1500/3000/4500
(30/60/90 s), at the overlap mode's own seams, and the median and 99th percentile of all
other steps, for both window modes, on the demo wavs concatenated to > 90 s.

    python benchmarks/whisper_window_jump.py [--checkpoint whisper/tiny.pt]

Without ``--checkpoint`` it uses the golden deterministic-weight Whisper tiny (the test stand-in).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from latentsync.audio.io import load_audio  # noqa: E402
from latentsync.audio.whisper import WhisperFeatures  # noqa: E402

EDGE_STEPS = (1500, 3000, 4500)
logger = logging.getLogger("whisper_window_jump")


def long_demo_waveform(min_seconds: float = 95.0) -> np.ndarray:
    """demo1 + demo2 repeated until longer than ``min_seconds``."""
    from tests.helpers.golden import MEDIA

    pieces = [load_audio(MEDIA / "demo1_audio.wav"), load_audio(MEDIA / "demo2_audio.wav")]
    out, total, i = [], 0, 0
    while total < min_seconds * 16000:
        out.append(pieces[i % 2])
        total += len(pieces[i % 2])
        i += 1
    return np.concatenate(out)


def deterministic_whisper_checkpoint(folder: Path) -> Path:
    from tests.helpers import golden
    from tests.helpers.tiny_models import WHISPER_TINY_DIMS, whisper_positions

    state = golden.fill("whisper_tiny")
    state["encoder.positional_embedding"] = whisper_positions(1500, 384)
    path = folder / "whisper_tiny.pt"
    torch.save({"dims": WHISPER_TINY_DIMS, "model_state_dict": state}, path)
    return path


def step_jumps(features: torch.Tensor) -> torch.Tensor:
    """jump[t] = mean |f[t] - f[t-1]| for t >= 1 (jump[0] = nan)."""
    diffs = (features[1:] - features[:-1]).abs().flatten(1).mean(dim=1)
    return torch.cat([torch.tensor([float("nan")]), diffs])


def seam_zones(model: WhisperFeatures, num_steps: int) -> list[range]:
    """Steps where ``model`` switches windows: each switch with its cross-fade (one step if hard)."""
    return [
        range(w.keep_start - w.blend_in, w.keep_start + max(w.blend_in, 1))
        for w in model.plan(2 * num_steps)[1:]
    ]


def jump_report(features: torch.Tensor, zones: list[range]) -> dict:
    """Jumps at the 30 s edges, the largest jump inside each seam zone, and the rest's statistics."""
    jumps = step_jumps(features)
    others = torch.ones(len(jumps), dtype=torch.bool)
    others[0] = False
    others[list(EDGE_STEPS)] = False
    for zone in zones:
        others[list(zone)] = False
    normal = jumps[others]
    return {
        "edges": {t: jumps[t].item() for t in EDGE_STEPS},
        "seams": {zone.start: jumps[list(zone)].max().item() for zone in zones},
        "median": normal.median().item(),
        "p99": torch.quantile(normal, 0.99).item(),
        "max": normal.max().item(),
    }


MODES = {
    "reference": dict(windows="reference"),
    "overlap, hard switch": dict(windows="overlap", crossfade_steps=0),
    "overlap (default, 5 s cross-fade)": dict(windows="overlap"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--checkpoint", type=Path, help="OpenAI Whisper tiny.pt (default: deterministic stand-in)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    waveform = long_demo_waveform()
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = args.checkpoint or deterministic_whisper_checkpoint(Path(tmp))
        for name, options in MODES.items():
            model = WhisperFeatures(checkpoint, **options)
            started = time.perf_counter()
            features = model.encode(waveform)
            seconds = time.perf_counter() - started
            zones = seam_zones(model, len(features)) if options["windows"] == "overlap" else []
            report = jump_report(features, zones)
            print(
                f"{name}: {len(waveform) / 16000:.1f} s audio, {len(features)} steps, encode {seconds:.1f} s"
            )
            edges = ", ".join(f"{t}: {v:.4f}" for t, v in report["edges"].items())
            print(f"  mean |f[t]-f[t-1]| at 30/60/90 s edges  {edges}")
            if zones:
                seams = ", ".join(f"{t}: {v:.4f}" for t, v in report["seams"].items())
                print(f"  largest jump in each window switch     {seams}")
            print(
                f"  other steps: median {report['median']:.4f}, p99 {report['p99']:.4f}, max {report['max']:.4f}"
            )


if __name__ == "__main__":
    main()
