"""Stage 6, ``sync``: keep clips whose lips match their audio, with the audio shifted to offset 0.

Algorithm (the seed's SyncNet evaluation, see :mod:`latentsync.eval.sync_confidence`): S3FD
face boxes (confidence > 0.9 at scale 0.25) linked into tracks, 224x224 mouth-region crops,
SyncNet v2 offset (-15..+15 frames) and confidence averaged over tracks. Rejected: no face
track, confidence below ``--sync-conf-threshold`` (default 3) or ``|offset| > 6`` frames (the
seed's limits). Kept clips get their audio delayed by ``offset`` frames (video untouched).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from latentsync.audio.io import read_pcm16, shift_audio
from latentsync.data.stage import Settings, Stage, StageRecord
from latentsync.device import pick_device
from latentsync.eval.sync_confidence import clip_sync
from latentsync.face.s3fd_detect import detect_faces
from latentsync.models.s3fd import load_s3fd
from latentsync.models.syncnet_v2 import load_syncnet_v2
from latentsync.video.clip_file import copy_atomic, remux_with_audio
from latentsync.video.reader import read_all_frames

SYNCNET_WEIGHTS = "syncnet_v2"  # auxiliary keys of latentsync.weights
S3FD_WEIGHTS = "sfd_face"


def threshold_label(value: float) -> str:
    """``3`` for 3.0 (the seed's folder is ``av_synced_3``), ``2.5`` otherwise."""
    return str(int(value)) if float(value).is_integer() else str(value)


@cache
def sync_models(syncnet_path: str, s3fd_path: str, device: str):
    """SyncNet v2 and S3FD, loaded once per worker process."""

    return load_syncnet_v2(syncnet_path, device), load_s3fd(s3fd_path, device)


def default_device() -> str:
    """The device auto picks when it is a CUDA GPU, else the CPU (the preprocessing models are not
    tried on MPS)."""
    device = pick_device("auto")
    return str(device) if device.type == "cuda" else "cpu"


class AudioVisualSync(Stage):
    name = "sync"
    uses_gpu = True

    def folder(self, settings: Settings) -> str | None:
        return f"av_synced_{threshold_label(settings.sync_conf_threshold)}"

    def required_weights(self, settings: Settings) -> list[str]:
        return [SYNCNET_WEIGHTS, S3FD_WEIGHTS]

    def run(self, src: Path, dst: Path, settings: Settings) -> StageRecord:

        syncnet, s3fd = sync_models(
            str(settings.weight(SYNCNET_WEIGHTS)), str(settings.weight(S3FD_WEIGHTS)), default_device()
        )
        frames = read_all_frames(src)
        audio = read_pcm16(src)
        result = clip_sync(
            syncnet,
            lambda frame: detect_faces(s3fd, frame, conf_threshold=settings.sync_face_conf, scales=(0.25,)),
            frames,
            audio,
            min_track=settings.sync_min_track,
            detect_every=settings.sync_detect_every,
        )
        if result is None:
            return StageRecord.rejected("no face track")
        measured = {"sync_offset": result.offset, "sync_conf": round(result.confidence, 4)}
        if result.confidence < settings.sync_conf_threshold:
            return StageRecord.rejected("sync confidence below threshold", **measured)
        if abs(result.offset) > settings.max_sync_offset:
            return StageRecord.rejected("sync offset too large", **measured)
        if result.offset == 0:
            copy_atomic(src, dst)
        else:
            remux_with_audio(src, dst, shift_audio(audio, result.offset))
        return StageRecord.kept([dst], **measured)
