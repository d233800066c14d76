"""``latentsync train syncnet|unet``: train from a packaged config name or a YAML with the original's keys."""

from __future__ import annotations

import argparse
import logging

logger = logging.getLogger(__name__)


def _add_common(p: argparse.ArgumentParser, kind: str, default: str) -> None:
    p.add_argument(
        "--config",
        default=default,
        metavar="NAME|PATH",
        help=f"packaged {kind} config name or a YAML file (default: %(default)s)",
    )
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, e.g. --set data.train_fileslist=list.txt --set run.max_train_steps=1000",
    )
    p.add_argument(
        "--aux-dir",
        default=None,
        metavar="DIR",
        help="folder with auxiliary weights (vgg16, VideoMAE, SyncNet v2, S3FD); same as --set ckpt.aux_dir=DIR",
    )
    p.add_argument("--quiet", action="store_true", help="warnings only")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "train",
        help="train SyncNet or the lip-sync UNet",
        description="Training on aligned face clips (see docs/training.md). Multi-GPU / multi-node: "
        "`accelerate launch -m latentsync train ...`.",
    )
    sub = p.add_subparsers(dest="train_target", metavar="<model>")
    s = sub.add_parser("syncnet", help="train StableSyncNet", description="Train StableSyncNet.")
    _add_common(s, "syncnet", "syncnet_16_pixel_attn")
    s.set_defaults(func=run_syncnet)
    u = sub.add_parser("unet", help="train the UNet", description="Train the lip-sync UNet.")
    _add_common(u, "unet", "stage2")
    u.set_defaults(func=run_unet)
    p.set_defaults(func=lambda args: p.print_help() or 2)


def _overrides(args: argparse.Namespace) -> list[str]:
    return args.overrides + ([f"ckpt.aux_dir={args.aux_dir}"] if args.aux_dir else [])


def run_syncnet(args: argparse.Namespace) -> int:
    from latentsync.config import load_config
    from latentsync.train.syncnet_trainer import SyncNetTrainer

    config = load_config(args.config, "syncnet", _overrides(args))
    result = SyncNetTrainer(config).train()
    logger.info("SyncNet training finished at step %d; outputs in %s", result.global_step, result.output_dir)
    return 0


def run_unet(args: argparse.Namespace) -> int:
    from latentsync.config import load_config, resolve_config_path
    from latentsync.train.unet_trainer import UNetTrainer

    config = load_config(args.config, "unet", _overrides(args))
    result = UNetTrainer(config, resolve_config_path(args.config, "unet")).train()
    logger.info("UNet training finished at step %d; outputs in %s", result.global_step, result.output_dir)
    return 0
