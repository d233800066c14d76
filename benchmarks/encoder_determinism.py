"""What bit-identical encodes cost: libx264 with and without its AVX-512 kernels, and without MB-tree.

For each case, the same frames are encoded ``--repeats`` times in one process, each time as
segments of 16 frames (as the pipeline writes them), by ``VideoWriter`` with its default settings
(crf 18, preset medium) under three x264 configurations:

- ``ours``: what the writer does, every CPU capability x264 detects except AVX-512;
- ``avx512``: x264's own choice (``asm=auto``), the setting that gave different outputs;
- ``no-mbtree``: AVX-512 kept, MB-tree off (the other way to avoid the faulty kernel: costs bits).

Columns: distinct decoded outputs over the repeats (1 = reproducible), CPU seconds per frame
(all encoder threads; the machine may be shared, so CPU time rather than wall time), output
bitrate and PSNR against the source frames. libx265 is listed once per case for reference (it
never uses AVX-512 unless asked).

Run from the repo root: ``python -m benchmarks.encoder_determinism [--frames 48 --repeats 3]``.
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from pathlib import Path

import numpy as np

from latentsync.video import VideoWriter, iter_frames
from latentsync.video.encoder_options import x264_cpu_names
from tests.helpers import media
from tests.video.clips import moving_texture

# (content, width, height): the demo talking head at three sizes (1280 px = 80 macroblocks, a
# multiple of 8, is a control) and the drifting texture of tests/video at 700x700.
CASES = [("demo", 700, 700), ("demo", 1280, 720), ("demo", 1081, 1917), ("texture", 700, 700)]
CONFIGS = {
    "ours": ("libx264", None),
    "avx512": ("libx264", {"x264-params": "asm=auto"}),
    "no-mbtree": ("libx264", {"x264-params": "asm=auto:mbtree=0"}),
    "x265": ("libx265", None),
}
SEGMENT = 16
FPS = 25


def encode_once(folder: Path, frames: list[np.ndarray], codec: str, options) -> tuple[float, int, list[Path]]:
    """CPU seconds and bytes for one encode of ``frames`` as 16-frame segments."""
    height, width = frames[0].shape[:2]
    paths, cpu = [], 0.0
    for start in range(0, len(frames), SEGMENT):
        path = folder / f"seg_{start:05d}.mp4"
        began = time.process_time()
        with VideoWriter(path, width, height, FPS, codec=codec, options=options) as writer:
            for frame in frames[start : start + SEGMENT]:
                writer.write(frame)
        cpu += time.process_time() - began
        paths.append(path)
    return cpu, sum(p.stat().st_size for p in paths), paths


def decoded(paths: list[Path]) -> list[np.ndarray]:
    return [frame for path in paths for frame in iter_frames(path)]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def measure(frames: list[np.ndarray], codec: str, options, repeats: int, work: Path) -> dict:
    digests, cpu_total, size, quality = set(), 0.0, 0, 0.0
    for run in range(repeats):
        folder = Path(tempfile.mkdtemp(dir=work))
        cpu, size, paths = encode_once(folder, frames, codec, options)
        cpu_total += cpu
        pictures = decoded(paths)
        digests.add(hashlib.sha256(b"".join(p.tobytes() for p in pictures)).hexdigest())
        if run == 0:
            quality = float(np.mean([psnr(a, b) for a, b in zip(frames, pictures)]))
    seconds = len(frames) / FPS
    return {
        "distinct": len(digests),
        "cpu_ms_per_frame": 1000 * cpu_total / (repeats * len(frames)),
        "kbps": size * 8 / seconds / 1000,
        "psnr": quality,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"libx264 detects: {' '.join(x264_cpu_names())}")
    print(f"{args.frames} frames, {args.repeats} encodes each, segments of {SEGMENT}, crf 18, medium\n")
    print("| content | size | config | distinct outputs | CPU ms/frame | kbit/s | PSNR dB |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for content, width, height in CASES:
            if content == "demo":
                frames = media.demo_frames(args.frames, size=(width, height))
            else:
                frames = moving_texture(args.frames, width, height)
            for name, (codec, options) in CONFIGS.items():
                row = measure(frames, codec, options, args.repeats, Path(tmp))
                print(
                    f"| {content} | {width}x{height} | {name} | {row['distinct']} "
                    f"| {row['cpu_ms_per_frame']:.1f} | {row['kbps']:.0f} | {row['psnr']:.2f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
