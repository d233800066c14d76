"""Face tracks: the face stage's per-frame result, computed once per video and reused by any audio.

A track holds, for output frames ``0 .. n-1`` of one video at one frame rate, the smoothed
frame->crop affine of the followed face (or why the frame passes through unchanged), plus the face
stage's state after frame ``n-1``. Tracking is causal, so the first ``n`` frames' result does not
depend on how long the audio is: a later run with another audio, steps or seed replays the track
and only detects frames past its end (continuing from the saved state). The file is named by the
video's content and the settings that change detections, and is written atomically.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

TRACK_FORMAT = 1  # bump when what a track stores (or how faces are aligned) changes
FACE = 0
PASS_REASONS = ("no face", "face too small")  # reason codes 1, 2 (0 = face)
CACHE_ENV = "LATENTSYNC_FACE_CACHE"
_DIGEST_CHUNK = 8 << 20


@dataclass(frozen=True)
class TrackSettings:
    """Everything besides the video's bytes that changes a track."""

    detector: str  # resolved backend: insightface or mediapipe
    min_score: float | None
    face_index: int | None
    resolution: int  # the aligner's template size
    fps: Fraction  # output frame rate: which source frames are looked at

    def key(self, video_digest: str) -> str:
        data = {
            "format": TRACK_FORMAT,
            "video": video_digest,
            "detector": self.detector,
            "min_score": self.min_score,
            "face_index": self.face_index,
            "resolution": self.resolution,
            "fps": str(Fraction(self.fps)),
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:24]


@dataclass
class FaceTrack:
    """Per-frame affines ([2, 3] float32, NaN where no face) and pass reasons, plus the end state."""

    affines: list[np.ndarray] = field(default_factory=list)
    reasons: list[int] = field(default_factory=list)
    end_state: dict | None = None  # FaceStage.state_dict() after the last frame
    start: int = 0  # output index of the first frame held (a window of a longer track)

    @property
    def stop(self) -> int:
        """The first frame the track does not reach."""
        return self.start + len(self.reasons)

    def append(self, affine: np.ndarray | None, reason: int) -> None:
        self.reasons.append(int(reason))
        self.affines.append(
            np.full((2, 3), np.nan, np.float32) if affine is None else np.asarray(affine, np.float32)
        )

    def affine(self, index: int) -> np.ndarray | None:
        return self.affines[index - self.start] if self.reasons[index - self.start] == FACE else None

    def reason(self, index: int) -> int:
        return self.reasons[index - self.start]

    def window(self, start: int, stop: int) -> FaceTrack:
        """Frames ``start .. stop-1`` only: what one segment worker needs (no detector state)."""
        lo, hi = start - self.start, min(stop, self.stop) - self.start
        return FaceTrack(self.affines[lo:hi], self.reasons[lo:hi], None, start)

    def save(self, path: Path) -> None:
        """Atomic write of a whole track (``start`` 0) (a reader sees the old or the new track, never half of one)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        affines = np.stack(self.affines) if self.affines else np.zeros((0, 2, 3), np.float32)
        with open(tmp, "wb") as f:
            np.savez(
                f,
                affines=affines,
                reasons=np.asarray(self.reasons, np.uint8),
                end_state=np.frombuffer(json.dumps(self.end_state).encode(), np.uint8),
            )
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> FaceTrack | None:
        """The track at ``path``; None when absent or unreadable (it is then recomputed)."""
        if not path.is_file():
            return None
        try:
            with np.load(path) as data:
                affines, reasons = data["affines"], data["reasons"]
                state = json.loads(data["end_state"].tobytes().decode())
        except (OSError, ValueError, KeyError) as exc:
            logger.warning("ignoring unreadable face track %s: %s", path, exc)
            return None
        return cls(list(affines), [int(r) for r in reasons], state)


def default_cache_dir() -> Path:
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "latentsync" / "faces"


def cache_dir_for(face_cache: str | None, work_dir: Path) -> Path:
    """``--face-cache``: auto (the user cache), off (the run's own work folder, removed after) or a folder."""
    if face_cache in (None, "", "auto"):
        return default_cache_dir()
    if face_cache == "off":
        return work_dir
    return Path(face_cache).expanduser()


def video_digest(path: Path) -> str:
    """Content hash of the video file (a renamed or copied file keeps its tracks)."""
    digest = hashlib.blake2b(digest_size=20)
    with open(path, "rb") as f:
        while block := f.read(_DIGEST_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def track_path(cache_dir: Path, video: Path, settings: TrackSettings) -> Path:
    return cache_dir / f"{settings.key(video_digest(video))}.faces.npz"
