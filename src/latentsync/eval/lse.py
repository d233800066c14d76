"""LSE-C / LSE-D of a video: SyncNet v2 confidence and distance over S3FD face tracks.

The procedure of the SyncNet evaluation LatentSync reports (joonson/syncnet_python's
``run_pipeline`` + ``SyncNetInstance.evaluate``): the video at 25 fps, S3FD boxes (score > 0.9
on the frame scaled by 0.25) per frame, scenes cut with PySceneDetect's ContentDetector, tracks
linked within scenes of at least ``min_track`` frames, 224x224 crops (box scale 0.4, BGR) with
the track's 16 kHz audio, then the offset search of :mod:`latentsync.eval.sync_confidence`.
A video's numbers are the means over its tracks (offset truncated to int, as the original).
Unlike the original, crops are not re-encoded to mp4/JPEG before scoring (no extra lossy step).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from statistics import fmean

import numpy as np
import torch

from latentsync.audio.io import SAMPLES_PER_FRAME, read_pcm16
from latentsync.errors import InputError
from latentsync.eval.face_tracks import FaceTrack, crop_track, link_tracks
from latentsync.eval.sync_confidence import VSHIFT, distance_curve, offset_and_confidence, syncnet_embeddings
from latentsync.eval.video25 import EVAL_FPS, SequentialFrames, iter_frames_25fps
from latentsync.face.s3fd_detect import detect_faces
from latentsync.video.probe import probe_video
from latentsync.video.scenes import detect_cuts

logger = logging.getLogger(__name__)

FaceBoxes = Callable[[np.ndarray], np.ndarray]  # RGB frame -> [K, 5] x1, y1, x2, y2, score


@dataclass
class TrackSync:
    first_frame: int
    last_frame: int
    offset: int
    confidence: float  # LSE-C of this track
    min_dist: float  # LSE-D of this track
    curve: list[float] = field(default_factory=list)  # mean distance at offsets +vshift..-vshift

    def offsets(self) -> list[int]:
        """The offset each ``curve`` point stands for (curve index i -> vshift - i)."""
        vshift = (len(self.curve) - 1) // 2
        return [vshift - i for i in range(len(self.curve))]


@dataclass
class VideoSync:
    video: str
    frames: int
    offset: int
    confidence: float
    min_dist: float
    tracks: list[TrackSync]

    def to_dict(self) -> dict:
        return asdict(self)


def s3fd_boxes(model, conf_threshold: float = 0.9, scale: float = 0.25) -> FaceBoxes:

    return lambda frame: detect_faces(model, frame, conf_threshold=conf_threshold, scales=(scale,))


def scene_ranges(path: str | Path, frames: int) -> list[tuple[int, int]]:
    """``[start, end)`` scenes in 25 fps frame indices."""

    fps = float(probe_video(path).fps)
    ranges = []
    for start, end in detect_cuts(Path(path)):
        a, b = (round(i * EVAL_FPS / fps) for i in (start, end))
        ranges.append((min(a, frames), min(b, frames)))
    return [r for r in ranges if r[1] > r[0]] or [(0, frames)]


def face_tracks(
    detections: list[np.ndarray], scenes: list[tuple[int, int]], min_track: int
) -> list[FaceTrack]:
    tracks = []
    for start, end in scenes:
        if end - start < min_track:
            continue
        for track in link_tracks(detections[start:end], min_track=min_track):
            tracks.append(FaceTrack(track.frames + start, track.boxes))
    return tracks


def track_sync(syncnet, crops_bgr: np.ndarray, audio_int16: np.ndarray, vshift: int = VSHIFT) -> TrackSync:
    lip, aud = syncnet_embeddings(syncnet, crops_bgr, audio_int16)
    curve = distance_curve(lip, aud, vshift)
    result = offset_and_confidence(lip, aud, vshift)
    return TrackSync(0, 0, result.offset, result.confidence, result.min_dist, [float(v) for v in curve])


@torch.no_grad()
def evaluate_video_sync(
    path: str | Path,
    syncnet,
    face_boxes: FaceBoxes,
    min_track: int = 50,
    crop_scale: float = 0.4,
    split_scenes: bool = True,
) -> VideoSync:
    """SyncNet offset, confidence (LSE-C) and distance (LSE-D) of one video; InputError if no face track."""
    detections = [face_boxes(frame) for frame in iter_frames_25fps(path)]
    scenes = scene_ranges(path, len(detections)) if split_scenes else [(0, len(detections))]
    tracks = face_tracks(detections, scenes, min_track)
    if not tracks:
        raise InputError(
            f"no face track of more than {min_track} frames in {path} "
            f"({sum(len(d) > 0 for d in detections)} of {len(detections)} frames have a face)"
        )
    audio = read_pcm16(path)
    if audio.size == 0:
        raise InputError(f"{path} has no audio stream: SyncNet needs the speech track")
    frames = SequentialFrames(path)
    results = []
    for track in tracks:
        crops_bgr = crop_track(frames, track, crop_scale)[..., ::-1]
        first, last = int(track.frames[0]), int(track.frames[-1])
        clip_audio = audio[first * SAMPLES_PER_FRAME : (last + 1) * SAMPLES_PER_FRAME]
        try:
            result = track_sync(syncnet, crops_bgr, clip_audio)
        except ValueError as exc:  # track longer than its audio
            logger.warning("skipping track %d-%d of %s: %s", first, last, path, exc)
            continue
        result.first_frame, result.last_frame = first, last
        results.append(result)
        logger.info(
            "%s frames %d-%d: offset %d, LSE-C %.3f, LSE-D %.3f",
            path,
            first,
            last,
            result.offset,
            result.confidence,
            result.min_dist,
        )
    if not results:
        raise InputError(f"no face track of {path} has enough audio for SyncNet")
    return VideoSync(
        str(path),
        len(detections),
        int(fmean(r.offset for r in results)),
        fmean(r.confidence for r in results),
        fmean(r.min_dist for r in results),
        results,
    )
