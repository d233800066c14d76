"""``python gradio_app.py [flags]``: the same as ``latentsync app [flags]`` (the original's entry point)."""

import sys

from latentsync.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["app", *sys.argv[1:]]))
