"""Opening media files with PyAV, turning every way a file can be unusable into one InputError line."""

from __future__ import annotations

from pathlib import Path

import av
import av.container

from latentsync.errors import InputError


def check_media_path(path: str | Path, what: str = "video") -> Path:
    """The path if it names a non-empty regular file; otherwise an InputError saying why not."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{what} file not found: {path}")
    if path.is_dir():
        raise InputError(f"{what} path is a directory, not a file: {path}")
    if path.stat().st_size == 0:
        raise InputError(f"{what} file is empty (0 bytes): {path}")
    return path


def open_input(path: str | Path, what: str = "video") -> av.container.InputContainer:
    """An open PyAV input container, or an InputError if the file is not a readable media file."""
    path = check_media_path(path, what)
    try:
        return av.open(str(path), mode="r")
    except av.FFmpegError as exc:
        raise InputError(
            f"{what} file is not a readable media file (truncated or not audio/video): {path} ({exc})"
        ) from exc


def _open_first_stream(path: str | Path, kind: str) -> tuple[av.container.InputContainer, av.stream.Stream]:
    """Container and its first ``kind`` ("video"/"audio") stream; InputError (and closed) if it has none."""
    container = open_input(path, kind)
    streams = container.streams.video if kind == "video" else container.streams.audio
    if not streams:
        container.close()
        raise InputError(f"{path} has no {kind} stream")
    return container, streams[0]


def open_video(path: str | Path) -> tuple[av.container.InputContainer, av.video.stream.VideoStream]:
    """Container and its first video stream; InputError if there is no video stream."""
    return _open_first_stream(path, "video")


def open_audio(path: str | Path) -> tuple[av.container.InputContainer, av.audio.stream.AudioStream]:
    """Container and its first audio stream (an audio file or a video with sound)."""
    return _open_first_stream(path, "audio")


def complete_frame_count(path: str | Path, stream: av.video.stream.VideoStream) -> int | None:
    """Frames whose bytes are all in the file, if the container indexes them and some are missing.

    None when the file is complete or has no frame index (then truncation shows only when decoding).
    """
    entries = stream.index_entries
    if not len(entries):
        return None
    size = Path(path).stat().st_size
    ends = [e.pos + e.size for e in entries if not e.is_discard]
    complete = sum(1 for end in ends if end <= size)
    return complete if complete < len(ends) else None
