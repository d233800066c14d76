"""The stages broken..affine on real demo footage plus broken/synthetic inputs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from latentsync.audio.io import read_pcm16
from latentsync.data.engine import RECORDS_DIR, InlineExecutor, dask_executor, run_pipeline
from latentsync.data.manifest import read_manifest
from latentsync.data.stage import Settings
from latentsync.video.probe import scan_streams
from latentsync.video.reader import read_all_frames
from tests.data.conftest import NO_MODEL_STAGES


def by_source(entries):
    out = {}
    for e in entries:
        out.setdefault(e.source.split("/")[-1], []).append(e)
    return out


def test_rejections_and_reasons(first_run):
    root, result, expected = first_run
    entries = by_source(read_manifest(root / "manifest.jsonl"))
    assert set(entries) == set(expected)
    for name, fate in expected.items():
        if fate == "kept":
            assert all(e.status == "kept" and e.stage == "affine" for e in entries[name]), entries[name]
        else:
            assert [(e.status, e.stage) for e in entries[name]] == [("rejected", fate)], entries[name]
    reasons = {name: es[0].reason for name, es in entries.items()}
    assert reasons["empty.mp4"] == "empty file"
    assert reasons["noaudio.mp4"] == "no audio stream"
    assert reasons["truncated.mp4"].startswith("undecodable")
    assert reasons["short.mp4"] == "shorter than 5 s"
    assert reasons["noface.mp4"] == "no face"
    summary = json.loads((root / "preprocess_summary.json").read_text())
    assert summary["kept_clips"] == 4
    assert abs(summary["kept_hours"] * 3600 - (6.0 + 5.6 + 5.2 + 5.6)) < 0.01
    assert (root / "clip_durations.png").stat().st_size > 1000


def test_cut_is_found_and_shots_split(first_run):
    root, _, _ = first_run
    record = json.loads((root / RECORDS_DIR / "shot" / "cut.mp4.json").read_text())
    assert record["outputs"] == ["shot/cut_shot_001.mp4", "shot/cut_shot_002.mp4"]
    (cut,) = record["measurements"]["cut_frames"]
    assert abs(cut - 140) <= 1, cut  # the join is after frame 140
    assert [scan_streams(root / p).video_packets for p in record["outputs"]] == [cut, 270 - cut]


def test_resampled_and_segmented_clips_are_25fps_16khz_5_to_10s(first_run):
    root, _, _ = first_run
    resampled = root / "resampled" / "fps30.mp4"
    info = scan_streams(resampled)
    assert info.fps == 25 and info.video_packets == 140  # 5.6 s at 30 fps -> 140 frames at 25 fps
    segments = sorted((root / "segmented").glob("*.mp4"))
    assert [p.name for p in segments] == [
        "cut_shot_001_000.mp4",
        "cut_shot_002_000.mp4",
        "fps30_shot_001_000.mp4",
        "good_shot_001_000.mp4",
        "noface_shot_001_000.mp4",
    ]
    for path in segments:
        info = scan_streams(path)
        assert info.fps == 25 and 5.0 <= info.video_packets / 25 < 10.0
        import av

        with av.open(str(path)) as c:
            assert c.streams.audio[0].codec_context.sample_rate == 16000
        assert abs(len(read_pcm16(path)) - info.video_packets * 640) <= 1024  # AAC end padding


def test_aligned_clips_are_square_and_show_a_centred_face(first_run):
    root, _, _ = first_run
    from latentsync.face.detector import create_detector

    detector = create_detector("mediapipe")
    clips = sorted((root / "affine_transformed").glob("*.mp4"))
    assert len(clips) == 4
    for clip in clips:
        frames = read_all_frames(clip)
        assert frames.shape[1:] == (256, 256, 3)
        faces = detector.detect(frames[len(frames) // 2])
        assert faces, clip
        cx, cy = np.mean(faces[0].landmarks3, axis=0)
        assert 80 < cx < 176 and 40 < cy < 200, (clip, cx, cy)


def test_rerun_after_interruption_redoes_only_the_unfinished_file(first_run, tmp_path):
    root, _, _ = first_run
    work = Path(shutil.copytree(root, tmp_path / "copy"))
    # Simulate a crash while segmenting good.mp4: no record, a half-written temp output.
    (work / RECORDS_DIR / "segment" / "good_shot_001.mp4.json").unlink()
    (work / "segmented" / "good_shot_001_000.mp4").unlink()
    stale = work / "segmented" / ".good_shot_001_000.tmp-999.mp4"
    stale.write_bytes(b"half")
    result = run_pipeline(work / "raw", settings=Settings(), skip=NO_MODEL_STAGES, executor=InlineExecutor())
    computed = {s.stage: s.computed for s in result.summary.stages}
    assert computed == {"broken": 0, "resample": 0, "shot": 0, "segment": 1, "affine": 0}
    assert not stale.exists()
    assert (work / "segmented" / "good_shot_001_000.mp4").is_file()
    assert read_manifest(work / "manifest.jsonl") == read_manifest(root / "manifest.jsonl")


def test_dask_local_cluster_gives_the_same_manifest(raw_template, first_run, tmp_path):
    template, _ = raw_template
    root, _, _ = first_run
    raw = Path(shutil.copytree(template, tmp_path / "raw"))
    with dask_executor(workers=2) as executor:
        result = run_pipeline(raw, settings=Settings(), skip=NO_MODEL_STAGES, executor=executor)
    assert all(s.computed == s.files_in for s in result.summary.stages)
    assert read_manifest(tmp_path / "manifest.jsonl") == read_manifest(root / "manifest.jsonl")
