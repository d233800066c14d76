"""``latentsync infer``: lip-sync one video to an audio track."""

from __future__ import annotations

import argparse
import logging
from dataclasses import fields
from pathlib import Path

from latentsync import weights
from latentsync.face.blend_region import BLEND_MODES
from latentsync.pipeline.options import InferenceOptions, fps_timelines, option_default

logger = logging.getLogger(__name__)


def add_model_version_argument(p: argparse.ArgumentParser, help_text: str) -> None:
    """``--model``: which published LatentSync version (``download`` and the model flags below)."""
    p.add_argument("--model", choices=weights.MODEL_VERSIONS, default=option_default("model"), help=help_text)


def add_model_arguments(p: argparse.ArgumentParser) -> None:
    """Model flags shared by ``infer``, ``app`` and ``batch``."""
    add_model_version_argument(
        p, "published weights: 1.6 (512x512, stage2_512) or 1.5 (256x256, stage2) (default: %(default)s)"
    )
    p.add_argument(
        "--unet-config",
        default=None,
        metavar="NAME|PATH",
        help="UNet config name (stage2_512, stage2, ...) or YAML with model + data sections; default follows --model",
    )
    p.add_argument(
        "--unet-checkpoint", default=None, metavar="PATH", help="UNet weights (.pt or .safetensors)"
    )
    p.add_argument(
        "--vae",
        default=None,
        metavar="PATH|REPO",
        help="diffusers VAE folder or hub repo (default stabilityai/sd-vae-ft-mse)",
    )
    p.add_argument(
        "--whisper", default=None, metavar="PATH", help="Whisper tiny checkpoint (OpenAI tiny.pt format)"
    )
    p.add_argument(
        "--aux-dir",
        default=None,
        metavar="DIR",
        help="folder with auxiliary weights (insightface models/buffalo_l/*.onnx, enhancers...); "
        "searched before $LATENTSYNC_CHECKPOINTS, ./checkpoints and the HF cache",
    )
    add_device_argument(p)
    p.add_argument(
        "--dtype",
        default=option_default("dtype"),
        choices=["auto", "fp16", "bf16", "fp32"],
        help="auto = fp16 on CUDA, fp32 elsewhere (default: %(default)s)",
    )


def add_device_argument(p: argparse.ArgumentParser) -> None:
    """``--device``: auto, cpu, cuda, cuda:N or mps (checked before any work: absent -> exit 2)."""
    p.add_argument(
        "--device",
        default=option_default("device"),
        metavar="DEVICE",
        help="auto, cpu, cuda, cuda:N or mps (default: %(default)s)",
    )


def add_generation_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--steps", type=int, default=option_default("steps"), help="DDIM steps (default: %(default)s)"
    )
    p.add_argument(
        "--guidance-scale",
        type=float,
        default=option_default("guidance_scale"),
        help="classifier-free guidance (default: %(default)s)",
    )
    p.add_argument(
        "--seed", type=int, default=option_default("seed"), help="noise seed (default: %(default)s)"
    )
    p.add_argument(
        "--deepcache",
        action="store_true",
        help="reuse deep UNet features between steps (faster, slightly different)",
    )
    p.add_argument(
        "--batch-chunks",
        type=int,
        default=option_default("batch_chunks"),
        metavar="N",
        help="16-frame chunks per UNet call (default: %(default)s)",
    )
    add_speed_arguments(p)
    add_memory_arguments(p)
    add_face_arguments(p)
    add_min_face_frames_argument(p)
    p.add_argument(
        "--face-index",
        type=int,
        default=None,
        metavar="I",
        help="lip-sync the I-th face from the left instead of the largest",
    )
    p.add_argument(
        "--blend",
        default=option_default("blend"),
        choices=list(BLEND_MODES),
        help="paste-back region: mouth = only the region the model regenerates (source pixels elsewhere), "
        "face = the whole crop, as the original (default: %(default)s)",
    )
    p.add_argument(
        "--enhancer",
        default=None,
        metavar="gfpgan|codeformer|PATH",
        help="restore the generated face before paste-back (GFPGAN v1.4, CodeFormer, or any spandrel "
        "face-restoration/super-resolution checkpoint); needs the enhance extra (default: off)",
    )
    p.add_argument(
        "--enhancer-strength",
        type=float,
        default=option_default("enhancer_strength"),
        metavar="S",
        help="0..1 blend of the restored face over the generated one (default: %(default)s)",
    )
    p.add_argument(
        "--fps",
        type=fps_choice,
        default="model",
        metavar="model|source|N",
        help="model = output at the source rate, the UNet on its 25 fps training timeline (each output frame "
        "shows the generated mouth of its time); source = the UNet at the source rate; N = output resampled "
        "to N fps, UNet at 25 fps (25 = the original's) (default: %(default)s)",
    )
    p.add_argument(
        "--keep-video-length",
        action="store_true",
        help="when the audio is shorter, keep the rest of the video unchanged (silent)",
    )
    p.add_argument(
        "--codec",
        default=option_default("codec"),
        choices=["libx264", "libx265"],
        help="(default: %(default)s)",
    )
    p.add_argument(
        "--crf",
        type=int,
        default=option_default("crf"),
        help="encoder quality, lower is better (default: %(default)s)",
    )


def add_face_arguments(p: argparse.ArgumentParser, flag: str = "--face-detector") -> None:
    """Detector choice and its minimum score (infer, batch; preprocess names it --detector)."""
    from latentsync.face.installed import BACKENDS

    p.add_argument(
        flag,
        dest="face_detector",
        default=option_default("face_detector"),
        choices=["auto", *BACKENDS],
        help="auto = insightface (the original's detector, what the published weights were trained on) when "
        "its buffalo_l files are found, else mediapipe with a warning (default: %(default)s)",
    )
    p.add_argument(
        "--face-threshold",
        type=float,
        default=None,
        metavar="SCORE",
        help="minimum detector score of a face, 0..1 (default: the detector's own, 0.5)",
    )


def add_face_cache_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--face-cache",
        default=option_default("face_cache"),
        metavar="DIR|auto|off",
        help="where face tracks are kept, so a video's faces are found once for any audio: auto = "
        "$LATENTSYNC_FACE_CACHE or ~/.cache/latentsync/faces; off = not kept (default: %(default)s)",
    )


def add_scale_arguments(p: argparse.ArgumentParser) -> None:
    """One video over several workers (pipeline/workers.py): the same frames, sooner."""
    p.add_argument(
        "--workers",
        type=int,
        default=option_default("workers"),
        metavar="N",
        help="render segments on N local Dask workers, one per device of --devices (default: %(default)s)",
    )
    p.add_argument(
        "--devices",
        default=option_default("devices"),
        metavar="LIST",
        help="the workers' devices: auto (every GPU, else the CPU) or cuda:0,cuda:1 (default: %(default)s)",
    )
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="tcp://HOST:8786",
        help="use this Dask cluster's workers (they share the output folder's filesystem)",
    )


def add_min_face_frames_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--min-face-frames",
        type=int,
        default=option_default("min_face_frames"),
        metavar="N",
        help="a face seen in fewer than N frames in a row is left unchanged (anti-flicker; 1 = off) "
        "(default: %(default)s)",
    )


def add_job_arguments(p: argparse.ArgumentParser, run) -> None:
    """Model and generation flags, ``--quiet`` and the handler: the tail of ``demo`` and ``batch``."""
    add_model_arguments(p)
    add_generation_arguments(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def fps_choice(value: str) -> str | float:
    """``--fps``: the words ``model``/``source`` or an output frame rate."""
    if value in ("model", "source"):
        return value
    try:
        return float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected model, source or a number, got {value!r}") from None


def add_speed_arguments(p: argparse.ArgumentParser) -> None:
    """Opt-in fast paths (latentsync.pipeline.fast_paths); none is on by default."""
    p.add_argument(
        "--autocast",
        default=None,
        choices=["bf16", "fp16"],
        help="run the UNet under torch.autocast with fp32 weights (bf16 on CPU; close, not equal)",
    )
    p.add_argument(
        "--channels-last", action="store_true", help="NHWC memory format for the UNet and VAE convolutions"
    )
    p.add_argument("--compile", action="store_true", help="torch.compile the UNet (slow first chunk)")
    add_vae_arguments(p)


def add_vae_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--vae-slicing", action="store_true", help="VAE one frame at a time (less memory, same output)"
    )
    p.add_argument(
        "--vae-tiling", action="store_true", help="VAE on overlapping tiles (less memory at high resolution)"
    )


def add_memory_arguments(p: argparse.ArgumentParser) -> None:
    """Device-memory switches (latentsync.pipeline.offload); outputs equal the defaults'."""
    p.add_argument(
        "--offload",
        default=option_default("offload"),
        choices=["none", "model", "sequential"],
        help="keep weights on the CPU: model = one model on the GPU at a time, sequential = one layer "
        "at a time (slowest, smallest); output unchanged (default: %(default)s)",
    )
    p.add_argument(
        "--low-vram",
        action="store_true",
        help="preset for small GPUs: --offload model, --vae-slicing, fp16 on CUDA, VAE tiling above 512 px",
    )


def memory_options(args: argparse.Namespace) -> dict:
    """The memory flags as InferenceOptions fields (commands without them get the defaults)."""
    names = ("offload", "low_vram", "vae_slicing", "vae_tiling")
    return {name: getattr(args, name, option_default(name)) for name in names}


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "infer",
        help="lip-sync a video to an audio track",
        description="Re-time the mouth of the main face in --video to --audio. Streams: memory does not grow with "
        "length or resolution. Resumes after a crash when run again with the same arguments.",
    )
    p.add_argument("--video", type=Path, help="input video (any resolution, fps, rotation)")
    p.add_argument(
        "--audio",
        type=Path,
        help="driving audio: any file with an audio stream (wav, mp3, m4a, flac, a video)",
    )
    p.add_argument("--output", type=Path, help="output video (.mp4/.mov/.mkv)")
    add_model_arguments(p)
    add_generation_arguments(p)
    p.add_argument(
        "--no-resume",
        action="store_true",
        help="start over even if a previous attempt left finished segments",
    )
    p.add_argument(
        "--segment-chunks",
        type=int,
        default=option_default("segment_chunks"),
        metavar="N",
        help="16-frame chunks per resumable segment: a crash loses at most this much work (default: %(default)s)",
    )
    add_face_cache_argument(p)
    add_scale_arguments(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--estimate",
        action="store_true",
        help="print the peak device memory these settings need (no GPU needed, nothing is run) and exit",
    )
    p.set_defaults(func=run)


def options_from_args(args: argparse.Namespace) -> InferenceOptions:
    """The parsed flags as options: each flag's ``dest`` is the field's name (``--fps`` and ``--no-resume``
    are the two spelled differently); a command without a flag gets the field's default."""
    names = {f.name for f in fields(InferenceOptions)} - {"fps", "model_fps", "resume", "extra"}
    values = {name: getattr(args, name) for name in names if hasattr(args, name)}
    values["fps"], values["model_fps"] = fps_timelines(getattr(args, "fps", "model"))
    values["resume"] = not getattr(args, "no_resume", False)
    return InferenceOptions(**values)


def run(args: argparse.Namespace) -> int:
    from latentsync.api import LipSync
    from latentsync.errors import ConfigError

    if args.estimate:
        return print_estimate(args)
    missing = [f"--{name}" for name in ("video", "audio", "output") if getattr(args, name) is None]
    if missing:
        raise ConfigError(f"infer needs {', '.join(missing)} (or --estimate alone)")
    summary = LipSync.run_once(options_from_args(args))
    print(summary.line())
    return 0


def print_estimate(args: argparse.Namespace) -> int:
    """``--estimate``: the peak-memory table of these settings, and on CUDA the free memory next to it."""
    from latentsync.pipeline.estimate_report import estimate_report

    placeholder = Path("estimate")
    options = options_from_args(
        argparse.Namespace(**dict(vars(args), video=placeholder, audio=placeholder, output=placeholder))
    )
    options.validate()
    print(estimate_report(options))
    return 0
