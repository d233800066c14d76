"""``latentsync batch`` on a local Dask cluster with the tiny models: errors recorded per row, reruns resume."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from latentsync import batch
from latentsync.cli import main
from latentsync.errors import InputError
from latentsync.pipeline.options import InferenceOptions
from tests.helpers import media
from tests.helpers.tiny_models import tiny_model_args, tiny_options


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _results(path: Path) -> dict[str, dict]:
    with open(path, newline="") as f:
        return {r["row"]: r for r in csv.DictReader(f)}


@pytest.fixture()
def jobs_dir(tmp_path) -> Path:
    media.write_video(tmp_path / "clip.mp4", media.demo_frames(16))
    media.write_audio(tmp_path / "speech.wav", media.demo_audio(0.64, start=2.0))
    (tmp_path / "out").mkdir()
    return tmp_path


def test_three_jobs_one_bad_then_rerun_skips_finished(jobs_dir, tiny_models):
    jobs = _write_csv(
        jobs_dir / "jobs.csv",
        ["video", "audio", "output", "seed", "steps"],
        [
            ["clip.mp4", "speech.wav", "out/a.mp4", "", ""],
            ["clip.mp4", "no_such_audio.wav", "out/b.mp4", "", ""],
            [str(jobs_dir / "clip.mp4"), "speech.wav", "out/c.mp4", "7", "2"],
        ],
    )
    args = ["batch", str(jobs), *tiny_model_args(tiny_models), "--steps", "1", "--workers", "1", "--quiet"]
    assert main(args) == 1  # one row failed

    results = _results(jobs_dir / "jobs.results.csv")
    assert [results[r]["status"] for r in ("1", "2", "3")] == ["ok", "error", "ok"]
    assert "no_such_audio.wav" in results["2"]["error"]
    assert float(results["1"]["seconds"]) > 0
    first, third = jobs_dir / "out/a.mp4", jobs_dir / "out/c.mp4"
    assert len(media.read_frames(first)) == 16 and len(media.read_frames(third)) == 16
    assert not (jobs_dir / "out/b.mp4").exists()
    # row 3 ran with its own seed and steps: a different mouth from row 1's
    assert media.psnr(media.read_frames(first)[8], media.read_frames(third)[8]) < 60
    stamps = (first.stat().st_mtime_ns, third.stat().st_mtime_ns)

    base = batch.base_options_dict(tiny_options(tiny_models, Path("x"), Path("x"), Path("x")))
    summary = batch.run_batch(jobs, base, workers=1, show_progress=False)
    assert (summary.ok, summary.failed, summary.skipped) == (0, 1, 2)  # only the bad row is retried
    assert (first.stat().st_mtime_ns, third.stat().st_mtime_ns) == stamps
    assert _results(jobs_dir / "jobs.results.csv")["2"]["status"] == "error"

    third.unlink()  # an ok row whose output is gone runs again
    summary = batch.run_batch(jobs, base, workers=1, show_progress=False)
    assert (summary.ok, summary.failed, summary.skipped) == (1, 1, 1)
    assert len(media.read_frames(third)) == 16


def test_models_load_once_per_options_and_device(monkeypatch):
    from latentsync.pipeline import workers

    loads = []
    monkeypatch.setattr(workers, "_MODELS", {})
    monkeypatch.setattr(
        "latentsync.pipeline.workers.load_inference_models",
        lambda options: loads.append(options) or object(),
    )
    first = InferenceOptions(video="a.mp4", audio="a.wav", output="a_out.mp4", device="cpu")
    again = InferenceOptions(video="b.mp4", audio="b.wav", output="b_out.mp4", device="cpu", seed=3, steps=5)
    other = InferenceOptions(video="b.mp4", audio="b.wav", output="b_out.mp4", device="cpu", dtype="bf16")
    assert workers.worker_models(first) is workers.worker_models(again)
    assert workers.worker_models(other) is not workers.worker_models(first)
    assert len(loads) == 2


def test_one_long_job_is_shared_by_two_workers(jobs_dir, tiny_models):
    """Two rows of 40 frames on 2 workers go out as 3 segments each (not one task per row)."""
    media.write_video(jobs_dir / "long.mp4", media.demo_frames(40))
    media.write_audio(jobs_dir / "long.wav", media.demo_audio(1.6, start=2.0))
    jobs = _write_csv(
        jobs_dir / "jobs.csv",
        ["video", "audio", "output"],
        [["long.mp4", "long.wav", "out/a.mp4"], ["long.mp4", "long.wav", "out/b.mp4"]],
    )
    base = batch.base_options_dict(
        tiny_options(tiny_models, Path("x"), Path("x"), Path("x"), segment_chunks=1)
    )
    written: list[tuple[str, int]] = []
    from latentsync.pipeline.journal import Journal

    real_add = Journal.add_segment

    def add(self, segment, state, faces):
        written.append((self.work_dir.name, segment.start))
        real_add(self, segment, state, faces)

    Journal.add_segment = add
    try:
        summary = batch.run_batch(jobs, base, workers=2, show_progress=False)
    finally:
        Journal.add_segment = real_add
    assert (summary.ok, summary.failed) == (2, 0)
    assert sorted(written) == sorted((f".{n}.mp4.latentsync", s) for n in "ab" for s in range(0, 40, 16))
    a, b = media.read_frames(jobs_dir / "out/a.mp4"), media.read_frames(jobs_dir / "out/b.mp4")
    assert len(a) == len(b) == 40
    assert all((x == y).all() for x, y in zip(a, b))  # same job, same frames, whichever worker


@pytest.mark.parametrize(
    "header,row,message",
    [
        (["video", "audio"], ["a.mp4", "a.wav"], "missing column"),
        (["video", "audio", "output", "speed"], ["a", "b", "c", "1"], "unknown column"),
        (["video", "audio", "output", "steps"], ["a", "b", "c", "many"], "not a number"),
        (["video", "audio", "output"], ["a", "", "c"], "empty audio"),
    ],
)
def test_bad_jobs_files_are_one_line_errors(tmp_path, header, row, message):
    jobs = _write_csv(tmp_path / "jobs.csv", header, [row])
    with pytest.raises(InputError, match=message):
        batch.read_jobs(jobs)


def test_duplicate_outputs_are_refused(tmp_path):
    jobs = _write_csv(
        tmp_path / "jobs.csv", ["video", "audio", "output"], [["a", "b", "o.mp4"], ["c", "d", "o.mp4"]]
    )
    with pytest.raises(InputError, match="earlier row"):
        batch.read_jobs(jobs)
