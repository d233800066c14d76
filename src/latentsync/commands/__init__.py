"""One module per CLI subcommand; each exposes ``register(subparsers)`` and a ``run(args) -> int``."""
