"""Cutting a 25 fps / 16 kHz clip into frame ranges in one decoding pass (shared by shot/segment)."""

from __future__ import annotations

from pathlib import Path

from latentsync.audio.io import SAMPLES_PER_FRAME, read_pcm16
from latentsync.video.clip_file import ClipWriter
from latentsync.video.reader import iter_timed_frames


def split_by_frames(src: Path, ranges: list[tuple[int, int]], outputs: list[Path]) -> list[Path]:
    """Write frames ``[start, end)`` of ``src`` (and their audio) to each output, atomically."""
    audio = read_pcm16(src)
    writers: dict[int, ClipWriter] = {}
    done: list[Path] = []
    try:
        for index, (_, frame) in enumerate(iter_timed_frames(src)):
            for slot, (start, end) in enumerate(ranges):
                if start <= index < end:
                    if slot not in writers:
                        piece = audio[start * SAMPLES_PER_FRAME : end * SAMPLES_PER_FRAME]
                        writers[slot] = ClipWriter(outputs[slot], piece)
                    writers[slot].write_frame(frame)
                elif index == end and slot in writers:
                    done.append(writers.pop(slot).commit())
        for slot in sorted(writers):
            done.append(writers.pop(slot).commit())
    except BaseException:
        for writer in writers.values():
            writer.abort()
        raise
    return done
