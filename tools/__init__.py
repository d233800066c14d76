"""Seed-compatible helper scripts (``python -m tools.write_fileslist``)."""
