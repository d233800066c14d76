"""Peak RSS of a lip-sync run on short vs long 4K input: streaming means the ratio stays near 1.

Run from the repo root: ``python -m benchmarks.pipeline_memory [--short 10] [--long 60] [--fps 25]``.
Tiny models (memory of the frames, queues and encoders is what is measured). The input is a 2 s
4K (2160x3840) clip of demo1, upscaled; the pipeline ping-pong loops it to the audio's length, and
the audio is demo1's speech looped. ``--fps`` sets the output rate (fewer frames keep the run
short). The short run needs >= ~100 frames: until then x264's lookahead and frame threads are still
filling (about 40-60 buffered 4K frames), so a shorter one under-reports the steady state. Each run
is its own process, reporting its own ``ru_maxrss``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

logger = logging.getLogger("benchmarks.pipeline_memory")

WIDTH, HEIGHT = 2160, 3840


def write_inputs(folder: Path, longest_seconds: float) -> tuple[Path, Path]:
    from tests.helpers import media

    frames = [
        cv2.resize(f, (WIDTH, HEIGHT), interpolation=cv2.INTER_CUBIC)
        for f in media.demo_frames(50, size=(1080, 1920))
    ]
    video = media.write_video(folder / "clip_4k.mp4", frames)
    speech = media.demo_audio(8.0)
    repeats = int(np.ceil(longest_seconds / 8.0)) + 1
    audio = media.write_audio(folder / "speech_long.wav", np.tile(speech, repeats))
    return video, audio


def child(args: argparse.Namespace) -> None:
    """One run in this process; prints a JSON line with frames, seconds and peak RSS."""
    from latentsync.pipeline.runner import run_inference
    from tests.helpers import media
    from tests.helpers.tiny_models import tiny_options

    folder = Path(args.folder)
    long_audio = folder / "speech_long.wav"
    samples = _read_wav(long_audio)[: int(args.seconds * 16000)]
    audio = media.write_audio(folder / f"speech_{args.seconds:g}.wav", samples)
    tiny = folder / "tiny"
    options = tiny_options(
        tiny, folder / "clip_4k.mp4", audio, folder / f"out_{args.seconds:g}.mp4", fps=args.fps, resume=False
    )
    started = time.monotonic()
    summary = run_inference(options)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    print(json.dumps({"frames": summary.frames, "seconds": time.monotonic() - started, "peak_mb": peak_mb}))


def _read_wav(path: Path) -> np.ndarray:
    import av

    with av.open(str(path)) as container:
        data = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(audio=0)])
    return data.astype(np.float32) / 32768.0 if data.dtype == np.int16 else data.astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--short", type=float, default=10.0, help="seconds")
    parser.add_argument("--long", type=float, default=60.0, help="seconds")
    parser.add_argument("--fps", type=float, default=25.0, help="output frame rate")
    parser.add_argument(
        "--malloc-mmap-threshold",
        type=int,
        default=0,
        metavar="BYTES",
        help="run the children with glibc MALLOC_MMAP_THRESHOLD_ fixed (e.g. 1048576): frame-sized buffers "
        "then go back to the OS when freed instead of fragmenting the heap",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--folder", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=0.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    if args.child:
        child(args)
        return

    from tests.helpers.tiny_models import write_tiny_models

    with tempfile.TemporaryDirectory(prefix="ls_memory_") as tmp:
        folder = Path(tmp)
        write_tiny_models(folder / "tiny")
        write_inputs(folder, max(args.short, args.long))
        rows = []
        for seconds in (args.short, args.long):
            command = [sys.executable, "-m", "benchmarks.pipeline_memory", "--child", "--folder", tmp]
            command += ["--seconds", str(seconds), "--fps", str(args.fps)]
            env = dict(os.environ)
            if args.malloc_mmap_threshold:
                env["MALLOC_MMAP_THRESHOLD_"] = str(args.malloc_mmap_threshold)
            done = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
            rows.append((seconds, json.loads(done.stdout.strip().splitlines()[-1])))
    malloc = f", MALLOC_MMAP_THRESHOLD_={args.malloc_mmap_threshold}" if args.malloc_mmap_threshold else ""
    print(f"4K ({WIDTH}x{HEIGHT}) input, tiny models, output {args.fps:g} fps{malloc}")
    print(f"{'input s':>8} {'frames':>7} {'run s':>7} {'peak RSS MB':>12}")
    for seconds, r in rows:
        print(f"{seconds:8.0f} {r['frames']:7d} {r['seconds']:7.1f} {r['peak_mb']:12.0f}")
    print(f"peak RSS ratio long/short: {rows[1][1]['peak_mb'] / rows[0][1]['peak_mb']:.3f}")


if __name__ == "__main__":
    main()
