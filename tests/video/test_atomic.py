"""atomic_output: the final path only ever holds a complete file."""

from __future__ import annotations

import pytest

from latentsync.video import VideoWriter, atomic_output, probe_video
from tests.video.clips import numbered_frame


def test_success_renames_over_the_target(tmp_path):
    target = tmp_path / "result.mp4"
    target.write_bytes(b"old result")
    with atomic_output(target) as temp:
        assert temp.parent == tmp_path and temp.name.startswith(".") and temp.suffix == ".mp4"
        with VideoWriter(temp, 32, 32, 25) as writer:  # the container is inferred from the suffix
            writer.write(numbered_frame(0, 32, 32))
        assert target.read_bytes() == b"old result"  # untouched until the body succeeds
    assert probe_video(target).num_frames == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.mp4"]


def test_failure_removes_the_temp_and_keeps_the_old_file(tmp_path):
    target = tmp_path / "result.mp4"
    target.write_bytes(b"old result")
    with pytest.raises(KeyboardInterrupt):
        with atomic_output(target) as temp:
            with VideoWriter(temp, 32, 32, 25) as writer:
                writer.write(numbered_frame(0, 32, 32))
                raise KeyboardInterrupt
    assert target.read_bytes() == b"old result"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.mp4"]


def test_body_that_writes_nothing_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        with atomic_output(tmp_path / "result.mp4"):
            pass
    assert list(tmp_path.iterdir()) == []
