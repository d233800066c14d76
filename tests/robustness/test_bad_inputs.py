"""Unusable inputs and outputs: ``latentsync infer`` exits 2 with one ``error:`` line, no traceback, no output.

All command lines run through the real CLI entry point, batched in one process (see cli_batch.py);
every case is its own test. The unwritable folder and the full disk are real tmpfs mounts (the
tests run as root, so permissions cannot stop writes); where mounting is refused, the unwritable
case uses a path under a regular file and the full disk is simulated by failing encoder writes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from latentsync.pipeline.journal import work_dir_for
from tests.helpers.tiny_models import tiny_infer_argv
from tests.robustness import inputs
from tests.robustness.mounts import tmpfs

REPO = Path(__file__).resolve().parents[2]


@dataclass
class BadCase:
    video: Path
    audio: Path
    output: Path
    expect: str  # lower-case words the error line must contain
    simulate_disk_full: bool = False
    exit_code: int = 2


def _build_cases(root: Path, readonly_ok: bool, small_ok: bool) -> dict[str, BadCase]:
    clip = inputs.encode_video(root / "clip.mp4", inputs.demo(16))
    wav = inputs.encode_audio(root / "speech.wav", inputs.speech(0.64))
    silent_clip = clip  # has no audio stream
    out = root / "out"
    out.mkdir()

    zero = root / "zero.mp4"
    zero.write_bytes(b"")
    text_mp4 = root / "notes.mp4"
    text_mp4.write_text("this is a text file, not a video\n" * 20)
    truncated = inputs.truncated_copy(clip, root / "cut mid-stream.mp4", keep=0.6)
    audio_only_mp4 = inputs.encode_audio(root / "audio_only.m4a", inputs.speech(0.64), 44100, codec="aac")
    audio_as_mp4 = root / "audio only.mp4"
    audio_as_mp4.write_bytes(audio_only_mp4.read_bytes())
    zero_wav = root / "zero.wav"
    zero_wav.write_bytes(b"")
    text_wav = root / "notes.wav"
    text_wav.write_text("RIFF? no.\n" * 50)
    a_file = root / "a_file"
    a_file.write_text("x")

    readonly_dir = root / "readonly"
    unwritable_output = readonly_dir / "out.mp4" if readonly_ok else a_file / "under a file" / "out.mp4"
    full_dir = root / "full"
    full_output = (full_dir if small_ok else out) / "out.mp4"

    cases = {
        "zero_byte_video": BadCase(zero, wav, out / "zero.mp4", "empty"),
        "truncated_mp4_cut_mid_stream": BadCase(
            truncated, wav, out / "trunc.mp4", "not a readable media file"
        ),
        "text_file_named_mp4": BadCase(text_mp4, wav, out / "text.mp4", "not a readable media file"),
        "video_without_video_stream": BadCase(audio_as_mp4, wav, out / "novideo.mp4", "no video stream"),
        "driving_file_without_audio_stream": BadCase(
            clip, silent_clip, out / "noaudio.mp4", "no audio stream"
        ),
        "zero_byte_audio": BadCase(clip, zero_wav, out / "zeroaudio.mp4", "empty"),
        "text_file_named_wav": BadCase(clip, text_wav, out / "textaudio.mp4", "not a readable media file"),
        "missing_video": BadCase(root / "nope.mp4", wav, out / "missing.mp4", "not found"),
        "directory_as_video": BadCase(out, wav, out / "dir.mp4", "directory"),
        "output_in_missing_directory": BadCase(clip, wav, root / "no such dir" / "o.mp4", "does not exist"),
        "output_equals_video": BadCase(clip, wav, clip, "must differ"),
        "output_equals_audio": BadCase(clip, wav, wav, "must differ"),
        "output_is_a_directory": BadCase(clip, wav, out, "directory"),
        "output_under_a_regular_file": BadCase(clip, wav, a_file / "o.mp4", "not a directory"),
        "unwritable_output_directory": BadCase(
            clip, wav, unwritable_output, "not writable" if readonly_ok else "not a directory"
        ),
        "disk_full_while_encoding": BadCase(
            clip, wav, full_output, "no space left", simulate_disk_full=not small_ok
        ),
    }
    return cases


@pytest.fixture(scope="module")
def bad_runs(tmp_path_factory, tiny_models):
    root = tmp_path_factory.mktemp("bad inputs")
    with tmpfs(root / "readonly", "ro,size=1m") as readonly_ok, tmpfs(root / "full", "size=48k") as small_ok:
        cases = _build_cases(root, readonly_ok, small_ok)
        spec = {
            name: {
                "argv": tiny_infer_argv(tiny_models, c.video, c.audio, c.output, "--steps", "1", "--quiet"),
                "simulate_disk_full": c.simulate_disk_full,
            }
            for name, c in cases.items()
        }
        before = {
            name: (c.output.exists(), c.output.is_file() and c.output.stat().st_size)
            for name, c in cases.items()
        }
        (root / "cases.json").write_text(json.dumps(spec))
        subprocess.run(
            [
                sys.executable,
                "-m",
                "tests.robustness.cli_batch",
                str(root / "cases.json"),
                str(root / "results.json"),
            ],
            cwd=REPO,
            check=True,
            timeout=600,
        )
        results = json.loads((root / "results.json").read_text())
        after = {
            name: (
                c.output.exists(),
                c.output.is_file() and c.output.stat().st_size,
                work_dir_for(c.output).exists(),
            )
            for name, c in cases.items()
        }
        yield cases, results, before, after, {"readonly": readonly_ok, "small": small_ok}


CASE_NAMES = [
    "zero_byte_video",
    "truncated_mp4_cut_mid_stream",
    "text_file_named_mp4",
    "video_without_video_stream",
    "driving_file_without_audio_stream",
    "zero_byte_audio",
    "text_file_named_wav",
    "missing_video",
    "directory_as_video",
    "output_in_missing_directory",
    "output_equals_video",
    "output_equals_audio",
    "output_is_a_directory",
    "output_under_a_regular_file",
    "unwritable_output_directory",
    "disk_full_while_encoding",
]


@pytest.mark.parametrize("name", CASE_NAMES)
def test_bad_case_gives_one_error_line_and_no_output(bad_runs, name):
    cases, results, before, after, _ = bad_runs
    case, result = cases[name], results[name]
    err = result["stderr"]
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert result["code"] == case.exit_code, err
    assert len(lines) == 1, err
    assert case.expect in lines[0].lower(), lines[0]
    assert "Traceback" not in err and "internal error" not in err, err
    existed, size_before = before[name][:2]
    exists, size_after, _ = after[name]
    # Nothing new at the output path; an input named as output is left byte-for-byte as it was.
    assert (exists, size_after) == (existed, size_before), (before[name], after[name])


def test_disk_full_leaves_no_partial_output(bad_runs):
    cases, _, _, after, mounted = bad_runs
    case = cases["disk_full_while_encoding"]
    assert not case.output.exists()
    partials = [p for p in case.output.parent.iterdir() if ".partial" in p.name]
    assert partials == []
    if mounted["small"]:
        assert not case.simulate_disk_full  # the real tmpfs was used


def test_bad_input_error_line_from_a_real_process(tmp_path, tiny_models):
    """The same contract through ``python -m latentsync`` itself (exit status of a real process)."""
    zero = tmp_path / "empty video.mp4"
    zero.write_bytes(b"")
    wav = inputs.encode_audio(tmp_path / "a.wav", inputs.speech(0.3))
    out = tmp_path / "o.mp4"
    proc = subprocess.run(
        [sys.executable, "-m", "latentsync", *tiny_infer_argv(tiny_models, zero, wav, out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [f"error: video file is empty (0 bytes): {zero}"]
    assert not out.exists()
