"""Audio input: probing, user-facing errors, decoding any format to 16 kHz mono."""

from __future__ import annotations

import numpy as np
import pytest

from latentsync.audio.io import iter_audio_blocks, load_audio, probe_audio
from latentsync.errors import InputError
from tests.helpers.golden import MEDIA
from tests.helpers.media import tone, write_audio, write_video


def _int16_wav_samples(path) -> np.ndarray:
    import wave

    with wave.open(str(path)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)


def test_probe_wav_and_video():
    wav = probe_audio(MEDIA / "demo1_audio.wav")
    assert (wav.sample_rate, wav.channels, wav.layout, wav.codec, wav.container_format) == (
        16000,
        1,
        "mono",
        "pcm_s16le",
        "wav",
    )
    assert wav.duration == pytest.approx(9.6)
    video = probe_audio(MEDIA / "demo1_video.mp4")
    assert (video.sample_rate, video.channels, video.codec) == (44100, 2, "aac")
    assert video.duration == pytest.approx(10.008, abs=1e-3)


def test_16k_int16_wav_decodes_exactly_to_int16_over_32768():
    path = MEDIA / "demo1_audio.wav"
    audio = load_audio(path)
    assert audio.dtype == np.float32
    np.testing.assert_array_equal(audio, _int16_wav_samples(path).astype(np.float32) / 32768.0)


def test_blocks_are_bounded_and_join_to_the_whole():
    path = MEDIA / "demo2_audio.wav"
    blocks = list(iter_audio_blocks(path, block_seconds=7.0))
    assert [len(b) for b in blocks] == [112000, 112000, 93440]
    np.testing.assert_array_equal(np.concatenate(blocks), load_audio(path))


def test_audio_track_of_a_video_file():
    audio = load_audio(MEDIA / "demo1_video.mp4")
    # 10.008 s of AAC at 44.1 kHz -> 16 kHz (AAC priming adds at most one 1024-sample frame)
    assert abs(len(audio) - 10.008 * 16000) < 1024 * 16000 / 44100 + 2
    assert 0.05 < np.abs(audio).max() <= 1.0


@pytest.mark.parametrize(
    ("name", "codec", "rate", "channels", "exact_length"),
    [
        ("tone.mp3", "mp3", 44100, 2, True),
        ("tone.flac", "flac", 44100, 2, True),
        ("tone.wav", "pcm_s16le", 44100, 2, True),
        ("tone.ogg", "libopus", 48000, 2, True),
        ("tone.m4a", "aac", 44100, 2, False),
    ],
)
def test_compressed_stereo_files_resample_to_16k_mono(tmp_path, name, codec, rate, channels, exact_length):
    path = write_audio(tmp_path / name, tone(3.0, rate, channels), rate, codec)
    info = probe_audio(path)
    assert (info.sample_rate, info.channels) == (rate, channels)
    audio = load_audio(path)
    assert audio.dtype == np.float32 and audio.ndim == 1
    if exact_length:
        assert len(audio) == 48000
    else:  # AAC keeps its encoder priming
        assert 0 <= len(audio) - 48000 < 1024 * 16000 / rate + 2
    spectrum = np.abs(np.fft.rfft(audio))
    assert np.argmax(spectrum) * 16000 / len(audio) == pytest.approx(440.0, abs=1.0)


def test_stereo_downmix_averages_the_channels(tmp_path):
    path = write_audio(tmp_path / "tone.flac", tone(1.0, 44100, 2), 44100, "flac")
    # left 0.5, right 0.25 amplitude -> mono 0.375 (flac is lossless; the resampler keeps the level)
    assert np.abs(load_audio(path)[2000:-2000]).max() == pytest.approx(0.375, abs=0.01)


def test_resampling_to_other_rates(tmp_path):
    path = write_audio(tmp_path / "short.wav", np.zeros(16000))
    assert len(load_audio(path, sample_rate=8000)) == 8000
    assert len(load_audio(path, sample_rate=44100)) == 44100


def _bad_inputs(tmp_path):
    (tmp_path / "folder").mkdir()
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "notes.wav").write_bytes(b"these are not audio samples\n" * 50)
    (tmp_path / "random.mp3").write_bytes(
        np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    )
    return {
        "missing.wav": "not found",
        "folder": "is a directory",
        "empty.wav": "empty (0 bytes)",
        "notes.wav": "not a readable media file",
        "random.mp3": "not a readable media file",
    }


def test_bad_inputs_give_one_clear_line(tmp_path):
    for name, message in _bad_inputs(tmp_path).items():
        for call in (probe_audio, load_audio):
            with pytest.raises(InputError) as info:
                call(tmp_path / name)
            text = str(info.value)
            assert message in text and name in text and "\n" not in text, text


def test_video_without_audio_stream(tmp_path):
    frames = [np.full((64, 64, 3), 40 * i, np.uint8) for i in range(3)]
    path = write_video(tmp_path / "silent_video.mp4", frames, codec="mpeg4")
    with pytest.raises(InputError, match="silent_video.mp4 has no audio stream"):
        probe_audio(path)
    with pytest.raises(InputError, match="has no audio stream"):
        load_audio(path)
