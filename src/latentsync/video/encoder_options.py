"""Encoder options that make an encode a pure function of its frames and settings.

libx264's AVX-512 MB-tree kernel (``mbtree_propagate_list``) handles 8 macroblocks per step with
no tail: when the picture is not a multiple of 8 macroblocks (128 pixels) wide, every row also
propagates up to 7 macroblocks past its end. On the last row those come from memory past x264's
arrays, i.e. whatever the allocator handed out before, so encoding the same frames twice gives
different pictures (bottom rows; typically from the second encode in a process on, which is
every segment after the first). Its SSSE3/AVX/AVX2 versions stop at the row length, and x264's
kernels are otherwise bit-exact with each other, so on a CPU where x264 would pick AVX-512 we
hand it every capability it detected except AVX-512: same pictures, same bitrate, a little
slower (``benchmarks/encoder_determinism.py``). What the frames hold past their visible width
(line padding) does not reach the output: x264 pads to whole macroblocks itself.
libx265 uses AVX-512 only when asked to, so it needs nothing here.
"""

from __future__ import annotations

import logging
import threading
from fractions import Fraction

import av
import av.logging

logger = logging.getLogger(__name__)

_CAPABILITIES_PREFIX = "using cpu capabilities:"
_PARAM_OPTIONS = ("x264-params", "x265-params")  # key=value lists joined with ':' when merged
_probe_lock = threading.Lock()
_x264_names: tuple[str, ...] | None = None


def x264_cpu_names() -> tuple[str, ...]:
    """The CPU capabilities libx264 detects on this machine, as named in its log ("AVX2", ...).

    Read once per process from the log line x264 writes when an encoder opens, so the list is
    x264's own detection rather than a guess about which instruction sets it uses.
    """
    global _x264_names
    with _probe_lock:
        if _x264_names is None:
            _x264_names = _probe_x264_names()
            logger.debug("libx264 cpu capabilities: %s", " ".join(_x264_names) or "(none logged)")
        return _x264_names


def _probe_x264_names() -> tuple[str, ...]:
    ctx = av.CodecContext.create("libx264", "w")
    ctx.width, ctx.height, ctx.pix_fmt = 64, 64, "yuv420p"
    ctx.time_base = Fraction(1, 25)
    previous = av.logging.get_level()
    av.logging.set_level(av.logging.INFO)  # x264 writes the line at INFO; restored right after
    try:
        with av.logging.Capture() as logs:
            ctx.open()
    finally:
        av.logging.set_level(previous)
    for _level, _name, message in logs:
        if message.startswith(_CAPABILITIES_PREFIX):
            return tuple(message[len(_CAPABILITIES_PREFIX) :].split())
    return ()


def asm_without_avx512(names: tuple[str, ...] | list[str]) -> str | None:
    """The x264 ``asm`` value for the detected ``names`` minus AVX-512; None when AVX-512 is absent."""
    if "AVX512" not in names:
        return None
    return ",".join(name for name in names if name != "AVX512")


def deterministic_options(codec: str) -> dict[str, str]:
    """Encoder options for ``codec`` that make repeated encodes of the same frames identical."""
    if codec != "libx264":
        return {}
    asm = asm_without_avx512(x264_cpu_names())
    return {} if asm is None else {"x264-params": f"asm={asm}"}


def merge_options(*layers: dict[str, str] | None) -> dict[str, str]:
    """Later layers override earlier ones, except x264/x265 ``-params`` lists, which are joined.

    Within a joined list a later ``key=value`` wins, so callers can still override ``asm``.
    """
    merged: dict[str, str] = {}
    for layer in layers:
        for key, value in (layer or {}).items():
            if key in _PARAM_OPTIONS and merged.get(key):
                merged[key] = f"{merged[key]}:{value}"
            else:
                merged[key] = value
    return merged
