"""``latentsync demo``: the first command to run. Lip-syncs the bundled clip to the bundled speech.

It fetches the published weights once (through the same resolver as ``infer``), writes the result
and a side-by-side comparison, and prints the ``infer`` command for the user's own files. It takes
every model and generation flag of ``infer``, so it also runs on other (e.g. tiny test) weights.
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
from pathlib import Path

from latentsync import weights
from latentsync.commands.infer import (
    add_generation_arguments,
    add_job_arguments,
    add_model_arguments,
    options_from_args,
)
from latentsync.errors import ConfigError, InputError, MissingWeightsError

logger = logging.getLogger(__name__)

DEFAULT_OUTPUT = Path("demo_out.mp4")
COMPARE_NAME = "demo_compare.mp4"
SAMPLE_RATE = 16000
PUBLISHED_DOWNLOAD = "about 5.5 GB"  # 1.6/1.5 UNet ~5 GB + SD VAE 335 MB + Whisper tiny 75 MB


def program_name() -> str:
    """How the user started us (``./latentsync`` from a checkout, ``latentsync`` when installed)."""
    return os.environ.get("LATENTSYNC_PROG") or "latentsync"


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "demo",
        help="lip-sync the bundled demo clip to the bundled speech (start here)",
        description="Lip-sync the bundled LatentSync demo clip to the bundled speech. Downloads the published "
        f"weights on first use ({PUBLISHED_DOWNLOAD}, kept in the Hugging Face cache), then writes the result and "
        "a side-by-side video of input and result. Takes the model and generation flags of `infer`.",
    )
    p.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help="lip-synced video (default: %(default)s in the current folder)",
    )
    p.add_argument(
        "--compare",
        type=Path,
        default=None,
        metavar="PATH",
        help=f"side-by-side video of input (left) and result (right) (default: {COMPARE_NAME} next to --output)",
    )
    p.add_argument(
        "--seconds",
        type=float,
        default=None,
        metavar="S",
        help="lip-sync only the first S seconds of the speech: a quicker first look on a CPU (default: all 9.6 s)",
    )
    add_job_arguments(p, run)


def compare_path(args: argparse.Namespace) -> Path:
    path = args.compare or args.output.parent / COMPARE_NAME
    if path.resolve() == args.output.resolve():
        raise ConfigError(f"--compare must differ from --output ({path}): use --compare PATH")
    for folder, what in ((args.output.parent, "output directory"), (path.parent, "folder of --compare")):
        if not folder.is_dir():
            raise InputError(f"{what} does not exist: {folder}")
    return path


def speech_excerpt(seconds: float, folder: Path) -> Path:
    """The first ``seconds`` of the bundled speech as a WAV in ``folder`` (kept until the demo
    succeeds, so a rerun after an interruption resumes on the same file)."""
    from latentsync.assets import demo_audio
    from latentsync.audio.io import load_audio, write_wav
    from latentsync.video.atomic import atomic_output

    if not os.access(folder, os.W_OK):
        raise InputError(f"output directory is not writable: {folder}")
    path = folder / f".demo_speech_{seconds:g}s.wav"
    if not path.is_file():
        samples = load_audio(demo_audio(), SAMPLE_RATE)
        with atomic_output(path) as part:
            write_wav(part, samples[: int(round(seconds * SAMPLE_RATE))], SAMPLE_RATE)
    return path


def fetch_weights(options, prog: str) -> None:
    """Have every weight file on disk before any work: downloads the missing ones (with progress)."""
    from latentsync.config import load_config
    from latentsync.pipeline.model_loading import check_model_matches_config

    check_model_matches_config(options, load_config(options.unet_config_name, "unet"))
    explicit = {"unet": options.unet_checkpoint, "vae": options.vae, "whisper": options.whisper}
    specs = weights.model_files(options.model)
    absent = [s for s in specs if not explicit.get(s.key) and weights.find_local(s) is None]
    unreachable = None
    if absent and not weights.is_offline():
        unreachable = weights.hub_unreachable_reason()  # checked first: the error stays one line
        if unreachable is None:
            logger.info(
                "first run: fetching the LatentSync %s weights (%s) into the Hugging Face cache",
                options.model,
                ", ".join(f"{s.repo_id}/{s.filename}".rstrip("/") for s in absent),
            )
    try:
        weights.resolve(specs, explicit, allow_download=unreachable is None)
    except MissingWeightsError as exc:
        reason = unreachable or exc.reason
        message = demo_missing_message(exc.missing, reason, options.model, prog)
        raise MissingWeightsError(exc.missing, message, reason) from None


def demo_missing_message(missing: list[tuple[str, str]], reason: str, model: str, prog: str) -> str:
    """One line: what is missing, why it could not be fetched, and the command that fetches it."""
    what = ", ".join(item for item, _ in missing)
    why = f" and cannot be downloaded ({reason})" if reason else ""
    return (
        f"the demo needs the LatentSync {model} weights, which are not on this machine{why}: {what}; "
        f"fetch them with `{prog} download --model {model}` where huggingface.co is reachable (HF_ENDPOINT "
        "for a mirror; or `download --dir checkpoints` elsewhere and copy that folder here), "
        "or pass --unet-checkpoint/--vae/--whisper"
    )


def warn_if_cpu(options) -> None:
    """The published UNet costs ~49 TFLOPs per frame at 20 steps (docs/cost_model.md): minutes per
    frame on a CPU. Say so before starting, with the flags that make a first look affordable."""
    from latentsync.device import pick_device

    if options.unet_checkpoint is None and pick_device(options.device).type == "cpu":
        logger.warning(
            "warning: no GPU, so the published model runs on the CPU at minutes per frame (the whole clip is "
            "240 frames); for a first look: --seconds 1 --steps 5 --deepcache (about 50x less work)"
        )


def infer_hint(args: argparse.Namespace, prog: str) -> str:
    """The ``infer`` command for the user's own files, with the model flags this demo ran with."""
    reference = argparse.ArgumentParser(add_help=False)
    add_model_arguments(reference)
    add_generation_arguments(reference)
    words = [prog, "infer", "--video", "YOUR_VIDEO.mp4", "--audio", "YOUR_SPEECH.wav", "--output", "out.mp4"]
    for action in reference._actions:
        value = getattr(args, action.dest, action.default)
        if not action.option_strings or value == action.default:
            continue
        flag = action.option_strings[0]
        words += [flag] if isinstance(value, bool) else [flag, str(value)]
    return shlex.join(words)


def run(args: argparse.Namespace) -> int:
    from latentsync.api import LipSync
    from latentsync.assets import demo_audio, demo_video
    from latentsync.face.installed import check_detector_installed
    from latentsync.pipeline.compare import write_comparison

    prog = program_name()
    compare = compare_path(args)
    if args.seconds is not None and not 0 < args.seconds <= 3600:
        raise ConfigError(f"--seconds must be between 0 and 3600, got {args.seconds:g}")
    args.video, args.audio = demo_video(), demo_audio()
    options = options_from_args(args)
    options.validate()
    check_detector_installed(options.face_detector)  # before a 5 GB download, not after
    fetch_weights(options, prog)
    warn_if_cpu(options)
    if args.seconds is not None:
        options.audio = speech_excerpt(args.seconds, options.output.parent)
    summary = LipSync.run_once(options)
    write_comparison(options.video, options.output, compare)
    if args.seconds is not None:
        options.audio.unlink(missing_ok=True)
    print(
        f"lip-synced:   {options.output.resolve()}  ({summary.frames} frames, "
        f"face in {summary.frames_with_face}, {summary.seconds:.0f} s)"
    )
    print(f"side by side: {compare.resolve()}")
    print(f"your own files: {infer_hint(args, prog)}")
    return 0
