"""Video IO with PyAV: probing, streaming decode, encoding, audio muxing and segment joining."""

from latentsync.video.atomic import atomic_output
from latentsync.video.concat import concat_segments
from latentsync.video.mux import mux_audio, mux_without_audio
from latentsync.video.probe import VideoInfo, probe_video
from latentsync.video.reader import iter_frames, iter_frames_pingpong, pingpong_index
from latentsync.video.writer import VideoWriter

__all__ = [
    "VideoInfo",
    "VideoWriter",
    "atomic_output",
    "concat_segments",
    "iter_frames",
    "iter_frames_pingpong",
    "mux_audio",
    "mux_without_audio",
    "pingpong_index",
    "probe_video",
]
