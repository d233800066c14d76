"""Whisper features against the original implementation's golden outputs (deterministic Whisper tiny)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from latentsync.audio.frame_features import chunk_rows, frame_chunk, num_video_frames
from latentsync.audio.whisper import WhisperFeatures
from latentsync.errors import CheckpointError, InputError
from tests.helpers.golden import assert_close_ref, reference


@pytest.fixture(scope="module")
def golden():
    return reference("whisper_tiny.features")


@pytest.fixture(scope="module")
def demo1_features(reference_whisper, demo1):
    return reference_whisper.encode(demo1)


@pytest.fixture(scope="module")
def long_reference_features(reference_whisper, long_waveform):
    return reference_whisper.encode(long_waveform)


def test_demo1_features_match_golden(demo1_features, golden):
    assert demo1_features.shape == (480, 5, 384)
    diff = assert_close_ref(demo1_features, golden["demo1_features"])
    print(f"demo1 features max abs diff {diff:.2e}")


def test_demo1_chunks_match_golden(reference_whisper, demo1_features, golden):
    chunks = torch.stack([frame_chunk(demo1_features, int(i)) for i in golden["demo1_chunk_index"]])
    assert chunks.shape == (10, 50, 384)
    assert_close_ref(chunks, golden["demo1_chunks_at_index"])


def test_long_reference_rows_match_golden(long_reference_features, golden):
    assert len(long_reference_features) == int(golden["long_num_features"])
    rows = long_reference_features[golden["long_feature_rows"]]
    diff = assert_close_ref(rows, golden["long_features_at_rows"])
    print(f"long rows (around the 30 s edge) max abs diff {diff:.2e}")


def test_long_reference_chunks_match_golden(reference_whisper, long_reference_features, golden):
    index = [int(i) for i in golden["long_chunk_index"]]
    chunks = torch.stack([frame_chunk(long_reference_features, i) for i in index])
    assert_close_ref(chunks, golden["long_chunks_at_index"])


def test_overlap_equals_reference_within_one_window(overlap_whisper, demo1_features, demo1):
    torch.testing.assert_close(overlap_whisper.encode(demo1), demo1_features, rtol=0, atol=0)


def test_overlap_differs_from_reference_only_past_the_first_window_switch(
    overlap_whisper, long_reference_features, long_waveform
):
    overlap = overlap_whisper.encode(long_waveform)
    assert overlap.shape == long_reference_features.shape == (1952, 5, 384)
    first_fade = overlap_whisper.plan(2 * 1952)[1].emit_start
    # Both modes run the same first window (mel frames 0..3000) and keep it up to the fade.
    assert first_fade == 851
    torch.testing.assert_close(overlap[:first_fade], long_reference_features[:first_fade], rtol=0, atol=0)
    assert (overlap[1500:] - long_reference_features[1500:]).abs().mean() > 0.1


def test_chunk_rows_rule():
    assert chunk_rows(0, 480) == [0, 0, 0, 0, 0, 1, 2, 3, 4, 5]
    assert chunk_rows(10, 480) == list(range(16, 26))
    assert chunk_rows(239, 480) == [474, 475, 476, 477, 478, 479, 479, 479, 479, 479]
    assert chunk_rows(3, 100, fps=30.0) == list(range(1, 11))  # 3 / 30 s -> step 5, not 4
    assert chunk_rows(1, 100, fps=29.97) == [0, 0, 0, 0, 1, 2, 3, 4, 5, 6]  # 1.67 -> step 1
    assert num_video_frames(153600, 25.0) == 240
    assert num_video_frames(153601, 25.0) == 241
    assert num_video_frames(16000, 29.97) == 30


def test_too_short_audio(overlap_whisper):
    with pytest.raises(InputError, match="too short"):
        overlap_whisper.encode(np.zeros(100, np.float32))
    assert overlap_whisper.encode(np.zeros(320, np.float32)).shape == (1, 5, 384)


def test_checkpoint_errors(tmp_path, whisper_checkpoint):
    with pytest.raises(CheckpointError, match="Whisper checkpoint not found"):
        WhisperFeatures(tmp_path / "tiny.pt")
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(whisper_checkpoint.read_bytes()[:100_000])
    with pytest.raises(CheckpointError, match="truncated"):
        WhisperFeatures(truncated)
    not_whisper = tmp_path / "unet.pt"
    torch.save({"state_dict": {"conv_in.weight": torch.zeros(2)}, "global_step": 1}, not_whisper)
    with pytest.raises(CheckpointError, match="no 'dims'"):
        WhisperFeatures(not_whisper)
    checkpoint = torch.load(whisper_checkpoint, weights_only=True)
    del checkpoint["model_state_dict"]["encoder.blocks.0.attn.query.weight"]
    broken = tmp_path / "missing_key.pt"
    torch.save(checkpoint, broken)
    with pytest.raises(CheckpointError, match="missing keys: encoder.blocks.0.attn.query.weight"):
        WhisperFeatures(broken)
