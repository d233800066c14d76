"""Seed-compatible entry points (``python -m scripts.inference`` etc.): thin wrappers over latentsync."""
