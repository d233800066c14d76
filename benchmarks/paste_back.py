"""ms/frame of face paste-back: our ROI path vs the original's full-frame warp+erode+blur, and the crop warp.

Run from the repo root: ``python -m benchmarks.paste_back`` (reads the golden frame0 via tests.helpers).
Two series on golden frame0 (portrait): "same face" pads the 1080p frame to 4K/8K (the face keeps
its pixel size, so an O(face) path stays flat); "scaled face" upscales the whole frame (the face grows
with it, as in real 4K footage). "ROI paste" returns a copy of the frame; "inplace" writes into it; speed-up is full frame / ROI paste.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
from collections.abc import Callable

import cv2
import numpy as np
import torch

from latentsync.face.align import FaceAligner
from latentsync.face.paste_back import paste_back_full_frame, paste_back_roi
from tests.helpers.golden import reference

logger = logging.getLogger("benchmarks.paste_back")

SIZES = {"1080p": (1080, 1920), "4K": (2160, 3840), "8K": (4320, 7680)}  # width, height


def median_ms(run: Callable[[], object], repeats: int) -> float:
    run()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def measure(
    frame: np.ndarray, landmarks: np.ndarray, generated: torch.Tensor, args: argparse.Namespace
) -> tuple[float, float, float, float]:
    """(ROI paste, ROI in place, full-frame paste, crop warp) in ms for one frame."""
    aligner = FaceAligner(512)
    _, affine = aligner.warp(frame, landmarks)
    scratch = frame.copy()
    roi_ms = median_ms(lambda: paste_back_roi(frame, generated, affine), args.repeats)
    inplace_ms = median_ms(lambda: paste_back_roi(scratch, generated, affine, inplace=True), args.repeats)
    full_ms = median_ms(lambda: paste_back_full_frame(frame, generated, affine), args.full_repeats)
    warp_ms = median_ms(lambda: aligner.warp_with(frame, affine), args.repeats)
    return roi_ms, inplace_ms, full_ms, warp_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--full-repeats", type=int, default=2, help="repeats of the slow full-frame path")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    cv2.setNumThreads(1)
    torch.set_num_threads(1)

    ref = reference("align_restore")
    base = ref["frame0"].numpy()
    landmarks = ref["frame0_landmarks3"].numpy()
    generated = ref["frame0_generated_face"]

    logger.info("single thread; median ms/frame")
    logger.info(
        f"{'series':>11} {'size':>6} {'ROI paste':>10} {'inplace':>8} {'full frame':>11} {'speed-up':>9} {'warp':>6}"
    )
    for series in ("same face", "scaled face"):
        for name, (width, height) in SIZES.items():
            if series == "same face":
                frame = np.pad(
                    base, ((0, height - base.shape[0]), (0, width - base.shape[1]), (0, 0)), "reflect"
                )
                frame_landmarks = landmarks
            else:
                frame = cv2.resize(base, (width, height), interpolation=cv2.INTER_LINEAR)
                frame_landmarks = landmarks * (width / base.shape[1])
            roi_ms, inplace_ms, full_ms, warp_ms = measure(frame, frame_landmarks, generated, args)
            logger.info(
                f"{series:>11} {name:>6} {roi_ms:10.2f} {inplace_ms:8.2f} {full_ms:11.1f} "
                f"{full_ms / roi_ms:8.0f}x {warp_ms:6.2f}"
            )


if __name__ == "__main__":
    main()
