"""The ``infer --estimate`` model for common settings on CUDA, as a Markdown table (README's).

Run from the repo root: ``python -m benchmarks.memory_estimate``. No GPU and no weights needed: each
model is traced on fake weights (``latentsync.pipeline.memory_trace``). The figures are estimates
of the peak CUDA memory of our pipeline, not measurements on a card.
"""

from __future__ import annotations

from latentsync.pipeline.estimate import GB, RunSettings, estimate

MODELS = {"1.6": ("stage2_512", 512), "1.5": ("stage2", 256)}
SETTINGS = (
    ("defaults (fp16)", {}),
    ("--batch-chunks 4", {"batch_chunks": 4}),
    ("--vae-slicing", {"vae_slicing": True}),
    ("--offload model", {"offload": "model"}),
    ("--low-vram", {"offload": "model", "vae_slicing": True}),
    ("--low-vram --batch-chunks 4", {"offload": "model", "vae_slicing": True, "batch_chunks": 4}),
    ("--offload sequential --vae-slicing", {"offload": "sequential", "vae_slicing": True}),
    ("--dtype fp32", {"dtype": "float32"}),
)


def main() -> None:
    print("| settings | 1.6 (512 px) | 1.5 (256 px) |")
    print("|---|---|---|")
    for label, change in SETTINGS:
        cells = []
        for config, resolution in MODELS.values():
            kw = dict(change)
            result = estimate(RunSettings(config, resolution, 16, kw.pop("dtype", "float16"), **kw))
            cells.append(f"{result.peak / GB:.1f} GB ({result.peak_stage})")
        print(f"| `{label}` | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
