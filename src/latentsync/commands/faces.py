"""``latentsync faces``: find a video's faces once, ahead of dubbing it into many languages.

Writes the face track every later ``infer`` on that video reuses, whatever the audio, steps or
seed: those runs then do no face detection at all.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from latentsync.commands.infer import add_face_arguments, add_face_cache_argument, add_model_version_argument

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "faces",
        help="find a video's faces once (the track every later infer on it reuses)",
        description=__doc__,
    )
    p.add_argument("video", type=Path, help="the video to track")
    add_model_version_argument(p, "the model the track is for: 1.6 (512 px crops) or 1.5 (256 px)")
    p.add_argument("--unet-config", default=None, metavar="NAME|PATH", help="UNet config (its crop size)")
    add_face_arguments(p)
    p.add_argument("--face-index", type=int, default=None, metavar="I", help="as infer --face-index")
    p.add_argument(
        "--fps", type=float, default=None, metavar="N", help="as infer --fps N (default: the source rate)"
    )
    p.add_argument("--aux-dir", default=None, metavar="DIR", help="as infer --aux-dir")
    p.add_argument(
        "--device", default="auto", metavar="DEVICE", help="the detector's device (default: %(default)s)"
    )
    add_face_cache_argument(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from latentsync.config import load_config
    from latentsync.errors import ConfigError
    from latentsync.face.installed import check_detector_installed
    from latentsync.pipeline.faces import complete_track, open_tracked_faces
    from latentsync.pipeline.options import InferenceOptions
    from latentsync.pipeline.timeline import output_rate
    from latentsync.video.probe import probe_video

    if args.face_cache == "off":
        raise ConfigError("faces writes the face cache: give --face-cache DIR or auto, not off")
    options = InferenceOptions(
        video=args.video,
        audio=args.video,
        output=Path("unused"),
        model=args.model,
        unet_config=args.unet_config,
        face_detector=args.face_detector,
        face_threshold=args.face_threshold,
        face_index=args.face_index,
        fps=args.fps,
        aux_dir=args.aux_dir,
        device=args.device,
        face_cache=args.face_cache,
    )
    check_detector_installed(options.face_detector)
    info = probe_video(options.video)
    resolution = int(load_config(options.unet_config_name, "unet").data.resolution)
    out_fps = output_rate(options, info.fps)
    frames = int(round(info.duration * float(out_fps))) if info.duration else info.num_frames
    faces = open_tracked_faces(options, out_fps, resolution, Path("."), options.device)
    complete_track(faces, options.video, info.fps, out_fps, frames, quiet=args.quiet)
    tracked = faces.track.stop
    found = sum(1 for i in range(tracked) if faces.track.affine(i) is not None)
    print(f"{tracked} frames, face in {found} ({faces.detected} detected now) -> {faces.path}")
    return 0
