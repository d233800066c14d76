"""Which 30 s encoder windows to run, and which feature steps to keep from each.

Whisper's encoder sees 3000 mel frames (30 s) and gives 1500 steps (20 ms each). A step's
features depend on where it sits in its window: at a window edge it has context on one
side only and a very different positional embedding.

* ``reference``: the original's back-to-back windows (``0, 30 s, 60 s, ...``), the last one
  zero-padded, keeping ``mel_frames // 2`` steps of each. Steps 1499 and 1500 come from
  opposite window edges, which is the lip glitch every 30 s (LatentSync issue #132).
* ``overlap``: windows every ``hop_steps`` (the last one ending at the audio end, so no
  padding once the audio is longer than a window); each step is kept from the window whose
  centre is nearest, i.e. where it is farthest from a window edge. That alone moves the jump
  rather than removing it: the positional embedding still changes by ``hop_steps`` positions
  at each switch (measured on the deterministic Whisper: mean jump 0.93 at a switch vs 0.98
  at a reference edge, 0.17 between ordinary steps). So the two windows are cross-faded
  linearly over ``crossfade_steps`` around each switch, which spreads the difference over
  5 s (0 gives the hard switch).

Audio of at most one window gives the same single window in both modes.
"""

from __future__ import annotations

from dataclasses import dataclass

WINDOW_MEL_FRAMES = 3000
WINDOW_STEPS = WINDOW_MEL_FRAMES // 2
DEFAULT_HOP_STEPS = 750
DEFAULT_CROSSFADE_STEPS = 250
WINDOW_MODES = ("overlap", "reference")


@dataclass(frozen=True)
class EncoderWindow:
    """One encoder run over mel frames ``[mel_start, mel_stop)`` (zero-padded to 3000).

    It owns steps ``[keep_start, keep_stop)``; the ``blend_in`` steps either side of
    ``keep_start`` are faded in from the previous window, the ``blend_out`` steps either
    side of ``keep_stop`` faded out into the next.
    """

    start_step: int
    mel_stop: int
    keep_start: int
    keep_stop: int
    blend_in: int = 0
    blend_out: int = 0

    @property
    def mel_start(self) -> int:
        return 2 * self.start_step

    @property
    def emit_start(self) -> int:
        """First step this window emits (the cross-fade from the previous window included)."""
        return self.keep_start - self.blend_in

    @property
    def emit_stop(self) -> int:
        """End of the steps this window emits; the next window emits the fade after it."""
        return self.keep_stop - self.blend_out

    def rows(self, first: int, stop: int) -> slice:
        """Rows of this window's encoder output for steps ``[first, stop)``."""
        return slice(first - self.start_step, stop - self.start_step)


def num_feature_steps(mel_frames: int) -> int:
    return mel_frames // 2


def fade_in_weights(length: int) -> list[float]:
    """Weights of the incoming window across a cross-fade of ``length`` steps (linear, symmetric)."""
    return [(i + 0.5) / length for i in range(length)]


def plan_windows(
    mel_frames: int,
    mode: str = "overlap",
    hop_steps: int = DEFAULT_HOP_STEPS,
    crossfade_steps: int = DEFAULT_CROSSFADE_STEPS,
) -> list[EncoderWindow]:
    """The encoder windows for ``mel_frames`` log-mel frames, in time order, emitting every step exactly once."""
    if mode not in WINDOW_MODES:
        raise ValueError(f"windows must be one of {WINDOW_MODES}, got {mode!r}")
    if not 0 < hop_steps <= WINDOW_STEPS:
        raise ValueError(f"hop_steps must be in 1..{WINDOW_STEPS}, got {hop_steps}")
    if crossfade_steps < 0:
        raise ValueError(f"crossfade_steps must be >= 0, got {crossfade_steps}")
    total = num_feature_steps(mel_frames)
    if mode == "reference" or total <= WINDOW_STEPS:
        return _back_to_back(mel_frames)
    starts = list(range(0, total - WINDOW_STEPS, hop_steps)) + [total - WINDOW_STEPS]
    # A step belongs to the window with the nearest centre (ties: the earlier one); window
    # centres are at start + (WINDOW_STEPS - 1) / 2, so the switch is at the midpoint.
    bounds = [0] + [(a + b + WINDOW_STEPS - 1) // 2 + 1 for a, b in zip(starts, starts[1:])] + [total]
    owned = [stop - start for start, stop in zip(bounds, bounds[1:])]
    # Half-widths of the fades: inside both windows and at most half of what each owns.
    halves = (
        [0]
        + [
            min(
                crossfade_steps // 2,
                bounds[k] - starts[k],
                starts[k - 1] + WINDOW_STEPS - bounds[k],
                owned[k - 1] // 2,
                owned[k] // 2,
            )
            for k in range(1, len(starts))
        ]
        + [0]
    )
    return [
        EncoderWindow(
            start, 2 * start + WINDOW_MEL_FRAMES, bounds[k], bounds[k + 1], halves[k], halves[k + 1]
        )
        for k, start in enumerate(starts)
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
