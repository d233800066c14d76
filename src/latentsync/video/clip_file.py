"""Training-data clips as files: 25 fps H.264 + 16 kHz mono AAC, written whole or not at all.

Every data stage writes through :class:`ClipWriter`, which encodes into a hidden temp file in
the destination folder and renames it into place on ``commit()``; an interrupted run leaves
only ``.*.tmp-*`` files, which the next run deletes (:func:`remove_stale_temps`).
"""

from __future__ import annotations

import logging
import os
import shutil
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from latentsync.audio.io import MODEL_FPS, SAMPLE_RATE, SAMPLES_PER_FRAME
from latentsync.video.encoder_options import deterministic_options, merge_options

logger = logging.getLogger(__name__)

CLIP_FPS = MODEL_FPS  # every training clip is resampled to the model's frame rate
TMP_MARK = ".tmp-"


def temp_path_for(final: Path) -> Path:
    return final.with_name(f".{final.stem}{TMP_MARK}{os.getpid()}{final.suffix}")


def remove_stale_temps(folder: Path, stem: str) -> None:
    """Delete temp files a killed run left for outputs named ``stem*`` in ``folder``."""
    if folder.is_dir():
        for leftover in folder.glob(f".{stem}*{TMP_MARK}*"):
            logger.info("removing half-written %s", leftover)
            leftover.unlink(missing_ok=True)


class ClipWriter:
    """Encodes frames and audio into ``final`` atomically (temp file + rename on commit).

    ``audio`` (mono int16) is given up front because both streams must exist before the first
    packet is muxed; it is trimmed to the video length on commit.
    """

    def __init__(
        self,
        final: str | Path,
        audio: np.ndarray | None,
        fps: int = CLIP_FPS,
        sample_rate: int = SAMPLE_RATE,
        crf: int = 18,
    ):
        self.final = Path(final)
        self.audio = None if audio is None or len(audio) == 0 else np.asarray(audio, np.int16)
        self.audio_stream = None
        self.final.parent.mkdir(parents=True, exist_ok=True)
        self.temp = temp_path_for(self.final)
        self.fps = fps
        self.sample_rate = sample_rate
        self.crf = crf
        self.container = av.open(str(self.temp), mode="w", format="mp4")
        self.video = None
        self.frames_written = 0

    def _open_video(self, height: int, width: int) -> None:
        self.video = self.container.add_stream("libx264", rate=self.fps)
        self.video.width = width - width % 2
        self.video.height = height - height % 2
        self.video.pix_fmt = "yuv420p"
        self.video.options = merge_options(
            {"crf": str(self.crf), "preset": "veryfast", "x264-params": "log-level=error"},
            deterministic_options("libx264"),
        )
        self.video.codec_context.time_base = Fraction(1, self.fps)
        if self.audio is not None:
            self.audio_stream = self.container.add_stream("aac", rate=self.sample_rate)
            self.audio_stream.layout = "mono"

    def write_frame(self, rgb: np.ndarray) -> None:
        if self.video is None:
            self._open_video(*rgb.shape[:2])
        rgb = rgb[: self.video.height, : self.video.width]
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        frame.pts = self.frames_written
        frame.time_base = Fraction(1, self.fps)
        for packet in self.video.encode(frame):
            self.container.mux(packet)
        self.frames_written += 1

    def commit(self) -> Path:
        """Flush both streams and rename the temp file to its final name."""
        try:
            if self.video is None:
                raise ValueError(f"no frames written for {self.final}")
            for packet in self.video.encode():
                self.container.mux(packet)
            if self.audio_stream is not None:
                self._write_audio(self.audio)
            self.container.close()
        except BaseException:
            self.abort()
            raise
        os.replace(self.temp, self.final)
        return self.final

    def _write_audio(self, audio: np.ndarray) -> None:
        needed = round(self.frames_written * self.sample_rate / self.fps)
        audio = audio[:needed]
        stream = self.audio_stream
        step = stream.codec_context.frame_size or 1024
        for start in range(0, len(audio), step):
            chunk = audio[start : start + step]
            frame = av.AudioFrame.from_ndarray(chunk[None, :], format="s16", layout="mono")
            frame.sample_rate = self.sample_rate
            frame.pts = start
            frame.time_base = Fraction(1, self.sample_rate)
            for packet in stream.encode(frame):
                self.container.mux(packet)
        for packet in stream.encode():
            self.container.mux(packet)

    def abort(self) -> None:
        try:
            self.container.close()
        except Exception:  # already closed or broken: the temp file goes either way
            pass
        self.temp.unlink(missing_ok=True)


def write_clip(final: str | Path, frames, audio: np.ndarray | None, fps: int = CLIP_FPS) -> Path:
    """Write an iterable of RGB frames plus mono int16 audio to ``final`` atomically."""
    writer = ClipWriter(final, audio, fps=fps)
    try:
        for frame in frames:
            writer.write_frame(frame)
    except BaseException:
        writer.abort()
        raise
    return writer.commit()


def copy_atomic(src: str | Path, final: str | Path) -> Path:
    """Copy a finished clip to ``final`` through a temp file (never a half copy under the final name)."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    temp = temp_path_for(final)
    shutil.copyfile(src, temp)
    os.replace(temp, final)
    return final


def remux_with_audio(src: str | Path, final: str | Path, audio: np.ndarray) -> Path:
    """Copy the video packets of ``src`` unchanged and encode ``audio`` as its new track, atomically."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    temp = temp_path_for(final)
    try:
        with av.open(str(src)) as source, av.open(str(temp), mode="w", format="mp4") as out:
            in_video = source.streams.video[0]
            out_video = out.add_stream_from_template(in_video)
            out_audio = out.add_stream("aac", rate=SAMPLE_RATE)
            out_audio.layout = "mono"
            frames = 0
            for packet in source.demux(in_video):
                if packet.dts is None:
                    continue
                frames += 1
                packet.stream = out_video
                out.mux(packet)
            samples = np.asarray(audio, np.int16)[: frames * SAMPLES_PER_FRAME]
            step = out_audio.codec_context.frame_size or 1024
            for start in range(0, len(samples), step):
                frame = av.AudioFrame.from_ndarray(
                    samples[None, start : start + step], format="s16", layout="mono"
                )
                frame.sample_rate = SAMPLE_RATE
                frame.pts = start
                frame.time_base = Fraction(1, SAMPLE_RATE)
                for packet in out_audio.encode(frame):
                    out.mux(packet)
            for packet in out_audio.encode():
                out.mux(packet)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    os.replace(temp, final)
    return final
