"""One video on 1 and on N local Dask workers (speedup, identical output), and what the face cache saves.

Run from the repo root: ``python -m benchmarks.scale_workers [--size 4K] [--frames 96] [--workers 2]
[--models tiny|full] [--steps 1]``.

Each run is a whole ``run_inference`` (models loaded inside, as the CLI does; workers load their
own). The face-cache rows time the same job with a cold cache, then with another audio on the
warm cache (no face detection). On a 2-core machine two CPU workers share the cores, so the
speedup shown here is a floor: on one GPU per worker the model time divides.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from benchmarks.pipeline_efficiency import SIZES, write_full_models, write_tiny
from latentsync.pipeline.options import InferenceOptions
from latentsync.pipeline.runner import run_inference
from tests.helpers import media

logger = logging.getLogger("benchmarks.scale_workers")


def _clip(folder: Path, size: str, frames: int) -> tuple[Path, Path, Path]:
    width, height = SIZES[size]
    video = media.write_video(
        folder / "clip.mp4",
        [cv2.resize(f, (width, height), interpolation=cv2.INTER_CUBIC) for f in media.demo_frames(frames)],
    )
    seconds = frames / 25
    speech = media.write_audio(folder / "speech.wav", media.demo_audio(seconds, start=1.0))
    other = media.write_audio(folder / "other.wav", media.demo_audio(seconds, start=4.0))
    return video, speech, other


def _timed(options: InferenceOptions) -> tuple[float, object]:
    started = time.monotonic()
    summary = run_inference(options)
    return time.monotonic() - started, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=list(SIZES), default="4K")
    parser.add_argument("--frames", type=int, default=96)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--models", choices=["tiny", "full"], default="tiny")
    parser.add_argument("--steps", type=int, default=1)
    parser.add_argument("--segment-chunks", type=int, default=2, help="16-frame chunks per segment")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        weights = write_full_models(folder) if args.models == "full" else write_tiny(folder)
        video, speech, other = _clip(folder, args.size, args.frames)

        def options(out: str, **kw) -> InferenceOptions:
            kw.setdefault("face_cache", str(folder / "cache"))
            kw.setdefault("audio", speech)
            return InferenceOptions(
                video=video,
                output=folder / out,
                device="cpu",
                steps=args.steps,
                quiet=True,
                face_detector="mediapipe",
                segment_chunks=args.segment_chunks,
                **weights,
                **kw,
            )

        cold, _ = _timed(options("cold.mp4", audio=other, face_cache="off"))
        _timed(options("fill.mp4"))  # fills the face cache
        warm, summary = _timed(options("warm.mp4", audio=other))
        one, _ = _timed(options("one.mp4"))
        many, _ = _timed(options("many.mp4", workers=args.workers, devices="cpu"))
        same = all(
            np.array_equal(a, b)
            for a, b in zip(media.read_frames(folder / "one.mp4"), media.read_frames(folder / "many.mp4"))
        )
        print(
            f"\n{args.size}, {args.frames} frames, {args.models} models, {args.steps} step(s), "
            f"{16 * args.segment_chunks}-frame segments\n"
        )
        print("| run | wall s | note |")
        print("|---|---:|---|")
        print(f"| 1 process, face cache off | {cold:.1f} | detects every frame |")
        print(
            f"| 1 process, warm face cache, another audio | {warm:.1f} | "
            f"{summary.face_detections} detections; saves {cold - warm:.1f} s |"
        )
        print(f"| 1 process (warm face cache) | {one:.1f} | |")
        print(
            f"| {args.workers} local workers | {many:.1f} | speedup {one / many:.2f}x; frames identical: {same} |"
        )


if __name__ == "__main__":
    main()
