"""``latentsync eval``: lip-sync (LSE-C/LSE-D), SyncNet accuracy, FVD, image quality and identity.

Every subcommand prints its numbers and writes a report folder (``--report-dir``, default
``./eval-report/<timestamp>``) with ``report.json`` and ``index.html``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from statistics import fmean

from latentsync.commands.infer import add_device_argument
from latentsync.errors import InputError

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "eval",
        help="evaluate lip-sync videos and SyncNet checkpoints",
        description="Metrics of the LatentSync paper: SyncNet confidence/distance (LSE-C/LSE-D), "
        "StableSyncNet accuracy, FVD, hyperIQA quality, and identity outside the mouth.",
    )
    parser.set_defaults(func=lambda args: _print_help(parser))
    commands = parser.add_subparsers(dest="eval_command", metavar="<metric>")
    _add_sync(commands)
    _add_syncnet_acc(commands)
    _add_fvd(commands)
    _add_iqa(commands)
    _add_identity(commands)


def _print_help(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _report_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--report-dir",
        type=Path,
        help="where report.json and index.html go (default: ./eval-report/<timestamp>)",
    )


def _aux_arg(parser: argparse.ArgumentParser, files: str) -> None:
    parser.add_argument("--aux-dir", help=f"folder with {files} (default: checkpoints/auxiliary, HF cache)")


def _video_args(parser: argparse.ArgumentParser, verb: str) -> None:
    """The ``--video``/``--dir`` pair that :func:`_videos` reads."""
    parser.add_argument("--video", action="append", help=f"video to {verb} (repeatable)")
    parser.add_argument("--dir", help=f"{verb} every .mp4 in this folder")


def _device(args: argparse.Namespace) -> str:
    from latentsync.device import pick_device

    return str(pick_device(args.device))


def _report_dir(args: argparse.Namespace) -> Path:
    from latentsync.eval.report import default_report_dir

    return args.report_dir or default_report_dir()


def _finish(
    report_dir: Path,
    title: str,
    payload: dict,
    rows: list[dict],
    images: list[tuple[str, str]] | None = None,
) -> int:
    """Every subcommand ends alike: write the report folder, say where it is, exit 0."""
    from latentsync.eval.report import write_report

    folder = write_report(report_dir, title, payload, rows, images or ())
    sys.stdout.write(f"report: {folder}\n")
    return 0


def _videos(args: argparse.Namespace) -> list[Path]:
    videos = [Path(v) for v in args.video or []]
    if args.dir:
        folder = Path(args.dir)
        if not folder.is_dir():
            raise InputError(f"--dir {folder} is not a folder")
        videos += sorted(p for p in folder.iterdir() if p.suffix.lower() == ".mp4")
    if not videos:
        raise InputError(
            "no videos to evaluate: pass --video PATH (repeatable) or --dir FOLDER of .mp4 files"
        )
    for video in videos:
        if not video.is_file():
            raise InputError(f"video not found: {video}")
    return videos


# ---------------------------------------------------------------- sync (LSE-C / LSE-D)


def _add_sync(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "sync",
        help="SyncNet confidence (LSE-C), distance (LSE-D) and A/V offset",
        description="SyncNet v2 over S3FD face tracks, as joonson/syncnet_python (the paper's LSE-C/LSE-D).",
    )
    _video_args(p, "evaluate")
    _aux_arg(p, "syncnet_v2.model and sfd_face.pth")
    _report_arg(p)
    p.add_argument("--min-track", type=int, default=50, help="shortest face track in frames (default: 50)")
    p.add_argument("--face-conf", type=float, default=0.9, help="S3FD score threshold (default: 0.9)")
    p.add_argument("--no-scene-split", action="store_true", help="do not cut tracks at scene changes")
    add_device_argument(p)
    p.set_defaults(func=run_sync)


def run_sync(args: argparse.Namespace) -> int:
    from latentsync.eval.lse import evaluate_video_sync, s3fd_boxes
    from latentsync.eval.report import plot_sync_curve, safe_name
    from latentsync.models.s3fd import load_s3fd
    from latentsync.models.syncnet_v2 import load_syncnet_v2
    from latentsync.weights import resolve_aux

    videos = _videos(args)
    paths = resolve_aux(["syncnet_v2", "sfd_face"], args.aux_dir)
    device = _device(args)
    syncnet = load_syncnet_v2(paths["syncnet_v2"], device)
    face_boxes = s3fd_boxes(load_s3fd(paths["sfd_face"], device), conf_threshold=args.face_conf)
    report_dir = _report_dir(args)
    report_dir.mkdir(parents=True, exist_ok=True)
    results, failed, rows, images = [], [], [], []
    for video in videos:
        try:
            result = evaluate_video_sync(
                video, syncnet, face_boxes, min_track=args.min_track, split_scenes=not args.no_scene_split
            )
        except InputError as exc:
            if len(videos) == 1:
                raise
            logger.warning("skipped %s: %s", video, exc)
            failed.append({"video": str(video), "error": str(exc)})
            continue
        results.append(result)
        rows.append(
            {
                "video": video.name,
                "LSE-C": result.confidence,
                "LSE-D": result.min_dist,
                "offset": result.offset,
                "tracks": len(result.tracks),
            }
        )
        for index, track in enumerate(result.tracks):
            name = f"{safe_name(video.stem)}_track{index}.png"
            caption = f"{video.name} frames {track.first_frame}-{track.last_frame}"
            plot_sync_curve(track.curve, track.offsets(), track.offset, caption, report_dir / name)
            images.append((caption, name))
        sys.stdout.write(
            f"{video}: LSE-C {result.confidence:.3f}  LSE-D {result.min_dist:.3f}  offset {result.offset}\n"
        )
    if not results:
        raise InputError(f"no video could be evaluated: {'; '.join(f['error'] for f in failed)}")
    summary = {
        "mean_lse_c": fmean(r.confidence for r in results),
        "mean_lse_d": fmean(r.min_dist for r in results),
        "mean_abs_offset": fmean(abs(r.offset) for r in results),
        "videos_evaluated": len(results),
        "videos_failed": len(failed),
    }
    sys.stdout.write(
        f"average over {len(results)} video(s): LSE-C {summary['mean_lse_c']:.3f}  "
        f"LSE-D {summary['mean_lse_d']:.3f}\n"
    )
    payload = {
        "metric": "sync",
        "summary": summary,
        "videos": [r.to_dict() for r in results],
        "failed": failed,
    }
    return _finish(report_dir, "SyncNet confidence (LSE-C) and distance (LSE-D)", payload, rows, images)


# ---------------------------------------------------------------- syncnet-acc


def _add_syncnet_acc(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "syncnet-acc",
        help="accuracy of a StableSyncNet on in-sync vs shifted windows",
        description="Draws aligned and misaligned 16-frame windows from the listed clips (seeded) and "
        "counts cosine(vision, audio) > 0.5 predictions that match.",
    )
    p.add_argument("--config", default="syncnet_16_pixel_attn", help="SyncNet config name or YAML path")
    p.add_argument("--checkpoint", help="stable_syncnet.pt (default: resolved like training weights)")
    p.add_argument("--fileslist", required=True, help="text file with one aligned 25 fps clip path per line")
    p.add_argument(
        "--num-samples", type=int, help="pairs to test (default: the config's data.num_val_samples)"
    )
    p.add_argument(
        "--batch-size", type=int, help="pairs per forward pass (default: the config's data.batch_size)"
    )
    p.add_argument("--seed", type=int, help="sampling seed (default: the config's run.seed)")
    _report_arg(p)
    add_device_argument(p)
    p.set_defaults(func=run_syncnet_acc)


def run_syncnet_acc(args: argparse.Namespace) -> int:
    from latentsync.config import load_config
    from latentsync.eval.syncnet_accuracy import read_fileslist, syncnet_accuracy
    from latentsync.models.stable_syncnet import load_stable_syncnet
    from latentsync.weights import resolve, training_files

    config = load_config(args.config, "syncnet")
    clips = read_fileslist(args.fileslist)
    checkpoint = resolve(training_files(), {"stable_syncnet": args.checkpoint})["stable_syncnet"]
    model = load_stable_syncnet(config, checkpoint, _device(args))
    result = syncnet_accuracy(model, clips, config, args.num_samples, args.batch_size, args.seed)
    numbers = result.to_dict()
    sys.stdout.write(f"SyncNet accuracy: {100 * result.accuracy:.2f}% ({result.correct}/{result.total})\n")
    payload = {
        "metric": "syncnet-acc",
        "config": str(args.config),
        "checkpoint": str(checkpoint),
        "fileslist": str(args.fileslist),
        "clips": len(clips),
        **numbers,
    }
    return _finish(_report_dir(args), "StableSyncNet accuracy", payload, [numbers])


# ---------------------------------------------------------------- fvd


def _add_fvd(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "fvd",
        help="Fréchet Video Distance (I3D features of face clips) between two folders",
        description="Face crops of frames 20-35 of every .mp4, I3D features (i3d_torchscript.pt), Fréchet distance.",
    )
    p.add_argument("--real", required=True, help="folder (or one .mp4) of real videos")
    p.add_argument("--fake", required=True, help="folder (or one .mp4) of generated videos")
    p.add_argument("--i3d", help="path of i3d_torchscript.pt (default: from --aux-dir or checkpoints)")
    _aux_arg(p, "i3d_torchscript.pt")
    _report_arg(p)
    add_device_argument(p)
    p.set_defaults(func=run_fvd)


def run_fvd(args: argparse.Namespace) -> int:
    from latentsync.eval.fvd import fvd_between_folders, load_i3d
    from latentsync.weights import resolve_aux

    if args.i3d:
        if not Path(args.i3d).is_file():
            raise InputError(f"--i3d {args.i3d} does not exist")
        i3d_path = Path(args.i3d)
    else:
        i3d_path = resolve_aux(["i3d"], args.aux_dir)["i3d"]
    model = load_i3d(i3d_path, _device(args))
    result = fvd_between_folders(model, args.real, args.fake)
    sys.stdout.write(f"FVD: {result['fvd']:.3f}\n")
    payload = {
        "metric": "fvd",
        "i3d": str(i3d_path),
        "real": str(args.real),
        "fake": str(args.fake),
        **result,
    }
    row = {
        "FVD": result["fvd"],
        "real videos": len(result["real_videos"]),
        "fake videos": len(result["fake_videos"]),
    }
    return _finish(_report_dir(args), "Fréchet Video Distance", payload, [row])


# ---------------------------------------------------------------- iqa


def _add_iqa(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "iqa",
        help="hyperIQA visual quality of videos (first, middle, last frame)",
        description="hyperIQA (koniq_pretrained.pkl) on the 224x224 centre crop of a video's first, "
        "middle and last frames, as the data pipeline's quality filter.",
    )
    _video_args(p, "score")
    _aux_arg(p, "koniq_pretrained.pkl")
    _report_arg(p)
    add_device_argument(p)
    p.set_defaults(func=run_iqa)


def run_iqa(args: argparse.Namespace) -> int:
    from latentsync.eval.iqa_score import frame_quality_scores
    from latentsync.models.hyperiqa import load_hyperiqa
    from latentsync.weights import resolve_aux

    device = _device(args)
    videos = _videos(args)
    model = load_hyperiqa(resolve_aux(["koniq"], args.aux_dir)["koniq"], device)
    rows = []
    for video in videos:
        scores = frame_quality_scores(model, _first_middle_last(video)).tolist()
        rows.append({"video": str(video), "quality": sum(scores) / len(scores), "frame_scores": scores})
        sys.stdout.write(f"{video}: quality {rows[-1]['quality']:.2f}\n")
    mean = fmean(row["quality"] for row in rows)
    sys.stdout.write(f"average quality over {len(rows)} video(s): {mean:.2f}\n")
    payload = {"metric": "iqa", "mean_quality": mean, "videos": rows}
    table = [{"video": Path(r["video"]).name, "quality": r["quality"]} for r in rows]
    return _finish(_report_dir(args), "hyperIQA quality", payload, table)


def _first_middle_last(path: Path) -> list:
    """The frames a clip is judged by, decoded in one pass holding at most three frames."""
    from latentsync.video.probe import probe_video
    from latentsync.video.reader import iter_frames

    middle_index = probe_video(path).num_frames // 2
    first = middle = last = None
    count = 0
    for index, frame in enumerate(iter_frames(path)):
        first = frame if first is None else first
        if index <= middle_index:
            middle = frame
        last = frame
        count += 1
    if first is None:
        raise InputError(f"{path} has no frames")
    if count // 2 != middle_index:
        logger.debug("%s: probed %d frames, decoded %d", path, 2 * middle_index, count)
    return [first, middle, last]


# ---------------------------------------------------------------- identity


def _add_identity(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "identity",
        help="PSNR/SSIM outside the mouth region between input and lip-synced output",
        description="Maps LatentSync's mouth mask into each input frame (3-landmark alignment) and compares "
        "input and output outside it (PSNR, SSIM) and inside it (PSNR).",
    )
    p.add_argument("--input", required=True, help="the original video")
    p.add_argument("--output", required=True, help="the lip-synced video")
    _report_arg(p)
    p.set_defaults(func=run_identity)


def run_identity(args: argparse.Namespace) -> int:
    from latentsync.eval.identity import identity_scores

    for path in (args.input, args.output):
        if not Path(path).is_file():
            raise InputError(f"video not found: {path}")
    scores = identity_scores(args.input, args.output)
    sys.stdout.write(
        f"outside the mouth: PSNR {scores['psnr_outside_mouth']:.2f} dB, SSIM {scores['ssim_outside_mouth']:.4f}; "
        f"mouth PSNR {scores['psnr_mouth']:.2f} dB ({scores['frames']} frames)\n"
    )
    return _finish(
        _report_dir(args), "Identity outside the mouth", {"metric": "identity", **scores}, [scores]
    )
