"""The seed's training entry points, both forwarded to ``latentsync train <model>``.

They differ only in the model, the name of the config flag and its default.
"""

from __future__ import annotations

import argparse

from latentsync.cli import main as cli_main


def forward_to_train(
    model: str, config_flag: str, default_config: str, description: str, argv: list[str] | None
) -> int:
    """Parse the seed's flags (``config_flag`` and repeatable ``--set KEY=VALUE``) and run the trainer."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        config_flag,
        dest="config",
        default=default_config,
        metavar="NAME|PATH",
        help="config name or YAML path",
    )
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    extra = [item for kv in args.overrides for item in ("--set", kv)]
    return cli_main(["train", model, "--config", args.config, *extra])
