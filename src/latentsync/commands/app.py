"""``latentsync app``: the web app (local by default)."""

from __future__ import annotations

import argparse
import importlib.util

from latentsync.commands.infer import add_memory_arguments, add_model_arguments, add_vae_arguments


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "app",
        help="start the web app",
        description="A Gradio page to lip-sync uploads: progress, cancel, one job at a time per device. "
        "Listens on 127.0.0.1 unless --host says otherwise; --share is opt-in.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    p.add_argument("--port", type=int, default=7860, help="(default: %(default)s)")
    p.add_argument("--share", action="store_true", help="also publish a temporary public gradio.live link")
    p.add_argument("--auth", default=None, metavar="USER:PASS", help="require this login")
    p.add_argument(
        "--max-upload-mb",
        type=int,
        default=2048,
        metavar="MB",
        help="largest upload accepted (default: %(default)s)",
    )
    p.add_argument(
        "--keep-results-minutes",
        type=float,
        default=60,
        metavar="MIN",
        help="remove uploads and results this long after a job (default: %(default)s)",
    )
    p.add_argument(
        "--temp-dir",
        default=None,
        metavar="DIR",
        help="where uploads and results live (default: a new temporary directory, removed at exit)",
    )
    add_model_arguments(p)
    add_memory_arguments(p)
    add_vae_arguments(p)
    p.set_defaults(func=run)


def settings_from_args(args: argparse.Namespace):
    from latentsync.app.settings import AppSettings, parse_auth
    from latentsync.commands.infer import memory_options
    from latentsync.device import pick_device
    from latentsync.errors import ConfigError

    pick_device(args.device)
    if not 1 <= args.max_upload_mb <= 1024 * 1024:
        raise ConfigError(f"--max-upload-mb must be between 1 and 1048576, got {args.max_upload_mb}")
    if not 0 < args.port < 65536:
        raise ConfigError(f"--port must be between 1 and 65535, got {args.port}")
    return AppSettings(
        host=args.host,
        port=args.port,
        share=args.share,
        auth=parse_auth(args.auth),
        max_upload_mb=args.max_upload_mb,
        model=args.model,
        unet_config=args.unet_config,
        unet_checkpoint=args.unet_checkpoint,
        vae=args.vae,
        whisper=args.whisper,
        device=args.device,
        dtype=args.dtype,
        aux_dir=args.aux_dir,
        **memory_options(args),
        temp_root=args.temp_dir,
        keep_results_seconds=int(args.keep_results_minutes * 60),
    )


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    settings.min_steps  # noqa: B018 - a bad LATENTSYNC_APP_MIN_STEPS fails here, not on the page
    if importlib.util.find_spec("gradio") is None:
        from latentsync.errors import ConfigError

        raise ConfigError("the app needs gradio: pip install 'latentsync[app]'")
    from latentsync.app.server import serve

    serve(settings)
    return 0
