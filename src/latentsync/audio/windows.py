"""Which 30 s encoder windows to run, and which feature steps to keep from each.

Whisper's encoder sees 3000 mel frames (30 s) and gives 1500 steps (20 ms each). A step's
features depend on where it sits in its window: at a window edge it has context on one
side only and a very different positional embedding.

* ``reference``: the original's back-to-back windows (``0, 30 s, 60 s, ...``), the last one
  zero-padded, keeping ``mel_frames // 2`` steps of each. Steps 1499 and 1500 come from
  opposite window edges, which is the lip glitch every 30 s (LatentSync issue #132).
* ``overlap``: windows every ``hop_steps`` (the last one ending at the audio end, so no
  padding once the audio is longer than a window); each step is kept from the window whose
  centre is nearest, i.e. where it is farthest from a window edge.

Audio of at most one window gives the same single window in both modes.
"""

from __future__ import annotations

from dataclasses import dataclass

WINDOW_MEL_FRAMES = 3000
WINDOW_STEPS = WINDOW_MEL_FRAMES // 2
DEFAULT_HOP_STEPS = 750
WINDOW_MODES = ("overlap", "reference")


@dataclass(frozen=True)
class EncoderWindow:
    """One encoder run: mel frames ``[mel_start, mel_stop)`` (zero-padded to 3000), keeping steps ``[keep_start, keep_stop)``."""

    start_step: int
    mel_stop: int
    keep_start: int
    keep_stop: int

    @property
    def mel_start(self) -> int:
        return 2 * self.start_step

    @property
    def kept_rows(self) -> slice:
        """Rows of this window's encoder output that are kept."""
        return slice(self.keep_start - self.start_step, self.keep_stop - self.start_step)


def num_feature_steps(mel_frames: int) -> int:
    return mel_frames // 2


def plan_windows(
    mel_frames: int, mode: str = "overlap", hop_steps: int = DEFAULT_HOP_STEPS
) -> list[EncoderWindow]:
    """The encoder windows for ``mel_frames`` log-mel frames, in time order, keeping every step exactly once."""
    if mode not in WINDOW_MODES:
        raise ValueError(f"windows must be one of {WINDOW_MODES}, got {mode!r}")
    if not 0 < hop_steps <= WINDOW_STEPS:
        raise ValueError(f"hop_steps must be in 1..{WINDOW_STEPS}, got {hop_steps}")
    total = num_feature_steps(mel_frames)
    if mode == "reference" or total <= WINDOW_STEPS:
        return _back_to_back(mel_frames)
    starts = list(range(0, total - WINDOW_STEPS, hop_steps)) + [total - WINDOW_STEPS]
    # A step belongs to the window with the nearest centre (ties: the earlier one); window
    # centres are at start + (WINDOW_STEPS - 1) / 2, so the switch is at the midpoint.
    boundaries = [0] + [(a + b + WINDOW_STEPS - 1) // 2 + 1 for a, b in zip(starts, starts[1:])] + [total]
    return [
        EncoderWindow(start, 2 * start + WINDOW_MEL_FRAMES, keep_start, keep_stop)
        for start, keep_start, keep_stop in zip(starts, boundaries, boundaries[1:])
        if keep_stop > keep_start
    ]


def _back_to_back(mel_frames: int) -> list[EncoderWindow]:
    windows = []
    for mel_start in range(0, mel_frames, WINDOW_MEL_FRAMES):
        mel_stop = min(mel_start + WINDOW_MEL_FRAMES, mel_frames)
        start = mel_start // 2
        kept = (mel_stop - mel_start) // 2
        if kept:
            windows.append(EncoderWindow(start, mel_stop, start, start + kept))
    return windows
