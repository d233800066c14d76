"""The frame numbers of one job: output rate, the model's 25 fps timeline, lengths and segments.

Computed from the inputs alone (no model), so the driver of a multi-worker run and each worker
agree on every index without talking to each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from latentsync.audio.frame_features import num_video_frames
from latentsync.errors import InputError
from latentsync.pipeline.options import InferenceOptions
from latentsync.pipeline.retime import Retimer


def output_rate(options: InferenceOptions, source_fps: Fraction) -> Fraction:
    if options.fps:
        return Fraction(options.fps).limit_denominator(1001)
    return Fraction(source_fps)


def model_rate(options: InferenceOptions, out_fps: Fraction) -> Fraction:
    """The UNet's timeline: 25 fps (its training rate) by default, the output's with ``--fps source``."""
    if options.model_fps:
        return Fraction(options.model_fps).limit_denominator(1001)
    return out_fps


@dataclass(frozen=True)
class Timeline:
    out_fps: Fraction
    model_fps: Fraction
    audio_frames: int  # output frames with audio under them
    model_audio_frames: int  # model-timeline frames with audio
    total: int  # output frames (longer than the audio with --keep-video-length)
    segment_frames: int  # resumable unit, in output frames

    @property
    def duration(self) -> float:
        """Seconds of the finished video (the audio's length)."""
        return self.audio_frames / float(self.out_fps)

    def segments(self) -> list[tuple[int, int]]:
        return [
            (start, min(start + self.segment_frames, self.total))
            for start in range(0, self.total, self.segment_frames)
        ]

    def retimer(self) -> Retimer | None:
        if self.model_fps == self.out_fps:
            return None
        return Retimer(self.out_fps, self.model_fps, self.segment_frames, self.model_audio_frames)


def build_timeline(options: InferenceOptions, video_info, num_samples: int, chunk_frames: int) -> Timeline:
    """``num_samples``: the driving audio's length at 16 kHz; ``chunk_frames``: the model's chunk."""
    out_fps = output_rate(options, video_info.fps)
    unet_fps = model_rate(options, out_fps)
    audio_frames = num_video_frames(num_samples, float(out_fps))
    if audio_frames <= 0:
        raise InputError(f"the driving audio is too short to cover one frame: {options.audio}")
    total = audio_frames
    if options.keep_video_length:
        video_frames = (
            int(round(video_info.duration * float(out_fps))) if video_info.duration else video_info.num_frames
        )
        total = max(total, video_frames)
    return Timeline(
        out_fps=out_fps,
        model_fps=unet_fps,
        audio_frames=audio_frames,
        model_audio_frames=num_video_frames(num_samples, float(unet_fps)),
        total=total,
        segment_frames=chunk_frames * max(1, options.segment_chunks),
    )
