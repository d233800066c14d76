"""Audio-visual offset and confidence with SyncNet v2 (the LSE-C / LSE-D measure).

For every 5-frame window of 224x224 mouth crops (BGR, 0-255) and the matching 20 MFCC steps
(4 per video frame at 25 fps / 100 Hz), SyncNet gives a lip and an audio embedding. The audio
embeddings are compared against each lip embedding at shifts of -15..+15 frames; the mean
distance over windows is a 31-point curve. ``offset = 15 - argmin`` (frames the audio must be
delayed by), ``confidence = median - min`` of the curve, ``min_dist`` its minimum (LSE-D).
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import fmean

import numpy as np
import torch
import torch.nn.functional as F

from latentsync.audio.io import SAMPLES_PER_FRAME
from latentsync.eval.face_tracks import crop_track, link_tracks
from latentsync.eval.mfcc import mfcc

VSHIFT = 15
WINDOW = 5
PAIRWISE_EPS = 1e-6  # torch.nn.functional.pairwise_distance's default


@dataclass
class SyncResult:
    offset: int
    confidence: float
    min_dist: float


def distance_curve(lip: torch.Tensor, aud: torch.Tensor, vshift: int = VSHIFT) -> torch.Tensor:
    """Mean over windows of ||lip_i - aud_{i+s}|| for s in -vshift..vshift (audio zero-padded).

    Every window's audio neighbourhood is one view of the padded sequence ([N, D, 2*vshift+1]);
    the distance keeps ``pairwise_distance``'s 1e-6 offset, so LSE-D matches the reference tool.
    """
    neighbourhoods = F.pad(aud, (0, 0, vshift, vshift)).unfold(0, 2 * vshift + 1, 1)
    distances = (lip.unsqueeze(-1) - neighbourhoods + PAIRWISE_EPS).norm(dim=1)  # [N, shifts]
    return distances.mean(0)


def offset_and_confidence(lip: torch.Tensor, aud: torch.Tensor, vshift: int = VSHIFT) -> SyncResult:
    curve = distance_curve(lip, aud, vshift)
    min_dist, index = torch.min(curve, 0)
    return SyncResult(int(vshift - index.item()), float(torch.median(curve) - min_dist), float(min_dist))


@torch.no_grad()
def syncnet_embeddings(
    syncnet, crops_bgr: np.ndarray, audio_int16: np.ndarray, batch_size: int = 20
) -> tuple[torch.Tensor, torch.Tensor]:
    """Lip and audio embeddings of every 5-frame window of a crop track and its audio."""
    device = next(syncnet.parameters()).device
    video = torch.from_numpy(np.ascontiguousarray(crops_bgr)).float().permute(3, 0, 1, 2).unsqueeze(0)
    cepstra = torch.from_numpy(mfcc(audio_int16).T.copy()).float()[None, None]  # [1,1,13,N]
    length = min(len(crops_bgr), len(audio_int16) // SAMPLES_PER_FRAME)
    last = length - WINDOW
    lips, auds = [], []
    for start in range(0, last, batch_size):
        idx = range(start, min(last, start + batch_size))
        lip_in = torch.cat([video[:, :, i : i + WINDOW] for i in idx]).to(device)
        aud_in = torch.cat([cepstra[..., 4 * i : 4 * i + 20] for i in idx]).to(device)
        lips.append(syncnet.forward_lip(lip_in).cpu())
        auds.append(syncnet.forward_aud(aud_in).cpu())
    if not lips:
        raise ValueError(f"clip too short for SyncNet: {length} frames, need more than {WINDOW}")
    return torch.cat(lips), torch.cat(auds)


def crops_sync(syncnet, crops_bgr: np.ndarray, audio_int16: np.ndarray, vshift: int = VSHIFT) -> SyncResult:
    lip, aud = syncnet_embeddings(syncnet, crops_bgr, audio_int16)
    return offset_and_confidence(lip, aud, vshift)


def clip_sync(
    syncnet,
    face_detector,
    frames_rgb: np.ndarray,
    audio_int16: np.ndarray,
    min_track: int = 50,
    detect_every: int = 1,
) -> SyncResult | None:
    """Offset/confidence of a 25 fps clip averaged over its face tracks (None: no track).

    ``face_detector(frame_rgb) -> [K, 5]`` boxes; for S3FD use confidence 0.9 at scale 0.25.
    ``detect_every`` > 1 detects on every n-th frame only (the track interpolates the rest).
    """
    empty = np.empty((0, 5))
    detections = [
        face_detector(frame) if i % detect_every == 0 else empty for i, frame in enumerate(frames_rgb)
    ]
    tracks = link_tracks(detections, min_track=min_track // detect_every)
    results = []
    for track in tracks:
        if len(track.frames) <= WINDOW:
            continue  # shorter than one SyncNet window: nothing to score
        crops_bgr = crop_track(frames_rgb, track)[..., ::-1]
        start, end = int(track.frames[0]), int(track.frames[-1]) + 1
        audio = audio_int16[start * SAMPLES_PER_FRAME : end * SAMPLES_PER_FRAME]
        results.append(crops_sync(syncnet, crops_bgr, audio))
    if not results:
        return None
    return SyncResult(
        int(fmean(r.offset for r in results)),
        fmean(r.confidence for r in results),
        fmean(r.min_dist for r in results),
    )
