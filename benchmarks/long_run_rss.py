"""Memory over a long lip-sync run: RSS after every minute (``--every-seconds``) of output video must stay flat.

The input is the 10 s 1080x1920 demo clip driven by ``--minutes`` of audio (the demo speech looped),
so the pipeline ping-pongs the clip for the whole length, as it does for a long real video. Tiny
deterministic models keep the model cost small; decode, face tracking, paste-back and the 1080p
encode run at full size. A full 20-minute run takes hours on a 2-core CPU; ``--minutes 2`` is the
quick check.

Run from the repo root: ``python -m benchmarks.long_run_rss --minutes 2``.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import threading
import time
from pathlib import Path

import av
import numpy as np
import psutil

from latentsync.pipeline.model_loading import load_inference_models
from latentsync.pipeline.runner import run_inference
from latentsync.video.probe import probe_video
from tests.helpers.golden import MEDIA
from tests.helpers.tiny_models import write_tiny_models
from tests.pipeline.conftest import tiny_options

logger = logging.getLogger(__name__)
MB = 1024 * 1024


def write_looped_speech(path: Path, seconds: float, source: Path) -> Path:
    """``seconds`` of the demo speech, repeated, as a 16 kHz mono wav written block by block."""
    with av.open(str(source)) as container:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=16000)
        pieces = [
            f.to_ndarray().reshape(-1) for fr in container.decode(audio=0) for f in resampler.resample(fr)
        ]
    speech = np.concatenate(pieces).astype(np.int16)
    total = int(seconds * 16000)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("pcm_s16le", rate=16000, layout="mono")
        written = 0
        while written < total:
            block = speech[: min(len(speech), total - written)]
            frame = av.AudioFrame.from_ndarray(block[None].copy(), format="s16", layout="mono")
            frame.sample_rate, frame.pts = 16000, written
            out.mux(stream.encode(frame))
            written += len(block)
        out.mux(stream.encode(None))
    return path


class RssLog:
    """RSS at each minute of output video (from the progress callback) and the peak (a sampler thread)."""

    def __init__(self, fps: float, every_seconds: float = 60):
        self.process = psutil.Process()
        self.every_seconds = every_seconds
        self.frames_per_row = max(1, int(round(every_seconds * fps)))
        self.started = time.monotonic()
        self.rows: list[tuple[float, float, float, float]] = []  # video minute, wall s, rss MB, frames/s
        self.peak = 0
        self._stop = threading.Event()
        self._last = (0, self.started)
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while not self._stop.wait(0.5):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def progress(self, done: int, total: int) -> None:
        if done % self.frames_per_row and done != total:
            return
        now = time.monotonic()
        rss = self.process.memory_info().rss
        self.peak = max(self.peak, rss)
        frames, then = self._last
        rate = (done - frames) / max(now - then, 1e-9)
        self._last = (done, now)
        row = (done / self.frames_per_row * self.every_seconds / 60, now - self.started, rss / MB, rate)
        self.rows.append(row)
        print(f"| {row[0]:>9.2f} | {row[1]:>8.0f} | {row[2]:>8.0f} | {row[3]:>6.1f} |", flush=True)

    def stop(self) -> None:
        self._stop.set()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=20, help="length of the output video (default 20)")
    parser.add_argument(
        "--every-seconds", type=float, default=60, help="a row per this much output video (default 60)"
    )
    parser.add_argument("--video", type=Path, default=MEDIA / "demo1_video.mp4", help="clip to ping-pong")
    parser.add_argument("--work-dir", type=Path, default=None, help="where inputs/output go (default: temp)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    with tempfile.TemporaryDirectory(prefix="long_run_rss_") as temp:
        work = args.work_dir or Path(temp)
        work.mkdir(parents=True, exist_ok=True)
        models_dir = write_tiny_models(work / "tiny")
        audio = write_looped_speech(work / "speech.wav", args.minutes * 60, MEDIA / "demo1_audio.wav")
        options = tiny_options(models_dir, args.video, audio, work / "long.mp4", resume=False)
        models = load_inference_models(options)
        log = RssLog(float(probe_video(args.video).fps), args.every_seconds)
        print(f"{args.minutes:g} min of 1080x1920 output, tiny models, steps {options.steps}")
        print(f"RSS after loading: {psutil.Process().memory_info().rss / MB:.0f} MB")
        print("| video min |   wall s |   RSS MB |  fps   |")
        print("|---------:|---------:|---------:|-------:|")
        summary = run_inference(options, models, progress=log.progress)
        log.stop()

    rss = [r[2] for r in log.rows]
    print(f"\n{summary.frames} frames, face in {summary.frames_with_face}, {summary.seconds:.0f} s")
    print(f"peak RSS {log.peak / MB:.0f} MB")
    if len(rss) >= 2:
        print(
            f"RSS change from the first row to the end: {rss[-1] - rss[0]:+.0f} MB (max-min {max(rss) - min(rss):.0f} MB)"
        )


if __name__ == "__main__":
    main()
