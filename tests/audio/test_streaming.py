"""Streaming features: window by window from a file, and the per-frame cursor in bounded memory."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from latentsync.audio.frame_features import FrameFeatureCursor, frame_chunk
from latentsync.audio.log_mel import LogMelStream, normalize_log_mel
from latentsync.audio.windows import WINDOW_MODES, WINDOW_STEPS, plan_windows
from tests.helpers.media import write_audio


@pytest.fixture(scope="module")
def long_wav(tmp_path_factory, long_waveform):
    return write_audio(tmp_path_factory.mktemp("audio") / "long.wav", long_waveform)


@pytest.fixture(scope="module")
def long_overlap_features(overlap_whisper, long_waveform):
    return overlap_whisper.encode(long_waveform)


def test_log_mel_stream_equals_whisper_log_mel(demo2):
    from whisper.audio import log_mel_spectrogram

    whole = log_mel_spectrogram(torch.from_numpy(demo2[:160_037]))
    stream = LogMelStream()
    parts = [stream.push(demo2[i : min(i + 333, 160_037)]) for i in range(0, 160_037, 333)] + [
        stream.finish()
    ]
    raw = torch.cat(parts, dim=1)
    assert raw.shape == whole.shape == (80, 1000)
    torch.testing.assert_close(normalize_log_mel(raw, raw.max().item()), whole, rtol=0, atol=1e-6)


@pytest.mark.parametrize("mode", WINDOW_MODES)
@pytest.mark.parametrize("mel_frames", [961, 3000, 3001, 3004, 3904, 9001, 11776, 20000])
def test_windows_emit_every_step_once(mode, mel_frames):
    windows = plan_windows(mel_frames, mode)
    emitted = [step for w in windows for step in range(w.emit_start, w.emit_stop)]
    assert emitted == list(range(mel_frames // 2))
    for w in windows:
        assert (
            w.start_step <= w.emit_start - w.blend_in
            and w.keep_stop + w.blend_out <= w.start_step + WINDOW_STEPS
        )
        assert w.mel_stop <= mel_frames and w.mel_stop - w.mel_start <= 3000


def test_iter_features_from_a_file_equals_encode(overlap_whisper, long_wav, long_overlap_features):
    pieces = list(overlap_whisper.iter_features(long_wav))
    starts = [start for start, _ in pieces]
    assert starts == [w.emit_start for w in overlap_whisper.plan(2 * 1952)]
    streamed = torch.cat([rows for _, rows in pieces])
    assert streamed.shape == long_overlap_features.shape
    torch.testing.assert_close(streamed, long_overlap_features, rtol=0, atol=1e-4)


def test_iter_features_from_blocks_reference_mode(reference_whisper, long_waveform):
    blocks = [long_waveform[i : i + 70_001] for i in range(0, len(long_waveform), 70_001)]
    streamed = torch.cat([rows for _, rows in reference_whisper.iter_features(blocks)])
    torch.testing.assert_close(streamed, reference_whisper.encode(long_waveform), rtol=0, atol=1e-4)
    with pytest.raises(TypeError, match="one-shot iterator"):
        next(reference_whisper.iter_features(iter(blocks)))


def test_cursor_gives_the_chunks_of_the_whole_features(overlap_whisper, long_wav, long_overlap_features):
    cursor = FrameFeatureCursor(overlap_whisper, long_wav, fps=25.0)
    assert cursor.num_frames == 976  # 39.04 s * 25
    assert cursor.num_steps == 1952
    held = []
    for index in [0, 0, 1, 2, 3, 100, 372, 373, 374, 375, 376, 377, 378, 700, 975, 976, 977]:
        expected = frame_chunk(long_overlap_features, index)
        torch.testing.assert_close(cursor.chunk(index), expected, rtol=0, atol=1e-4)
        held.append(cursor.rows_held)
    # never more than the window being served plus the one before it
    assert max(held) <= 2 * WINDOW_STEPS
    with pytest.raises(ValueError, match="must not decrease"):
        cursor.chunk(10)


def test_cursor_memory_does_not_grow_with_length(overlap_whisper, tmp_path, demo1, demo2):
    long = np.concatenate([demo1, demo2] * 3)  # 88 s: 6 encoder windows
    path = write_audio(tmp_path / "long.wav", long)
    cursor = FrameFeatureCursor(overlap_whisper, path, fps=30.0)
    assert cursor.num_frames == int(np.ceil(len(long) / 16000 * 30))
    held = []
    for index in range(0, cursor.num_frames, 7):
        chunk = cursor.chunk(index)
        assert chunk.shape == (50, 384)
        held.append(cursor.rows_held)
    # at most two windows' rows, whatever the length (this audio has 4416 steps)
    assert cursor.num_steps == len(long) // 320 > 2 * WINDOW_STEPS
    assert max(held) <= 2 * WINDOW_STEPS
