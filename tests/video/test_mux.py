"""mux_audio / mux_without_audio / concat_segments: audio format kept, trims, offsets, exact joins."""

from __future__ import annotations

import av
import numpy as np
import pytest

from latentsync.errors import InputError
from latentsync.video import concat_segments, iter_frames, mux_audio, mux_without_audio, probe_video
from tests.helpers.golden import MEDIA
from tests.helpers.media import read_frames
from tests.video.clips import make_clip, make_wav


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    """1.2 s of video at 25 fps (the generated video the pipeline would mux)."""
    return make_clip(tmp_path_factory.mktemp("mux") / "video.mp4", num_frames=30)


def _audio_of(path):
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        samples = np.concatenate([f.to_ndarray() for f in container.decode(stream)], axis=1)
        duration = float(stream.duration * stream.time_base)
        return stream.codec_context.name, stream.rate, stream.layout.nb_channels, duration, samples


def _video_packets(path):
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(video=0) if p.size]


def test_copy_44k1_stereo_aac_from_a_video_with_sound(tmp_path, video):
    out = tmp_path / "out.mp4"
    mux_audio(video, MEDIA / "demo1_video.mp4", out, duration_seconds=1.2)
    codec, rate, channels, duration, samples = _audio_of(out)
    assert (codec, rate, channels) == ("aac", 44100, 2)
    assert 1.2 <= duration < 1.2 + 1024 / 44100  # stream copy ends within one AAC packet
    assert _video_packets(out) == _video_packets(video)  # video copied, not re-encoded


@pytest.mark.parametrize(("rate", "channels"), [(48000, 1), (44100, 2)])
def test_wav_is_encoded_to_aac_keeping_rate_and_channels(tmp_path, video, rate, channels):
    wav = tmp_path / "drive.wav"
    make_wav(wav, rate, channels, seconds=2.0)
    out = tmp_path / "out.mp4"
    mux_audio(video, wav, out, duration_seconds=1.2)
    codec, got_rate, got_channels, duration, samples = _audio_of(out)
    assert (codec, got_rate, got_channels) == ("aac", rate, channels)
    assert duration == pytest.approx(1.2, abs=1 / rate)
    assert samples.shape[0] == channels and abs(samples.shape[1] - 1.2 * rate) < 1024
    with av.open(str(out)) as container:
        assert container.streams.audio[0].bit_rate > 100_000 * channels


def test_offset_starts_at_the_right_sample(tmp_path, video):
    wav = tmp_path / "drive.wav"
    source = make_wav(wav, 16000, 1, seconds=3.0)[0].astype(np.float64) / 32768
    out = tmp_path / "out.mp4"
    mux_audio(video, wav, out, audio_offset_seconds=1.0, duration_seconds=1.0)
    _, rate, _, duration, samples = _audio_of(out)
    assert rate == 16000 and duration == pytest.approx(1.0, abs=1e-4)
    got = samples[0, 2000:14000]
    lags = range(-40, 41)
    errors = [np.abs(got - source[16000 + 2000 + lag : 16000 + 14000 + lag]).mean() for lag in lags]
    best = lags[int(np.argmin(errors))]
    assert best == 0, f"audio is shifted by {best} samples"
    assert min(errors) < 0.01


def test_whole_driving_audio_without_duration(tmp_path, video):
    out = tmp_path / "out.mp4"
    mux_audio(video, MEDIA / "demo1_audio.wav", out)
    _, rate, channels, duration, _ = _audio_of(out)
    assert (rate, channels) == (16000, 1)
    assert duration == pytest.approx(9.6, abs=1e-3)  # 153600 samples in demo1_audio.wav


def test_audio_less_driving_file_is_an_input_error(tmp_path, video):
    with pytest.raises(InputError, match="has no audio stream"):
        mux_audio(video, video, tmp_path / "out.mp4")


def test_mux_without_audio(tmp_path, video):
    with_audio = tmp_path / "a.mp4"
    mux_audio(video, MEDIA / "demo1_audio.wav", with_audio)
    silent = tmp_path / "silent.mp4"
    mux_without_audio(with_audio, silent)
    info = probe_video(silent)
    assert not info.has_audio and info.num_frames == 30
    assert _video_packets(silent) == _video_packets(video)


@pytest.mark.parametrize("codec", ["libx264", "libx265"])
def test_concat_segments_decodes_to_the_segments_frames(tmp_path, codec):
    segments = [
        make_clip(
            tmp_path / f"seg{k}.mp4",
            num_frames=n,
            codec=codec,
            options={"bf": "2"} if codec == "libx264" else {},
        )
        for k, n in enumerate([7, 9, 8])
    ]
    expected = [frame for segment in segments for frame in read_frames(segment)]
    joined = tmp_path / "joined.mp4"
    concat_segments(segments, joined)
    frames = list(iter_frames(joined))
    assert len(frames) == 24
    assert all(np.array_equal(a, b) for a, b in zip(frames, expected))
    info = probe_video(joined)
    assert info.num_frames == 24 and info.duration == pytest.approx(24 / 25)
    with av.open(str(joined)) as container:
        times = [f.time for f in container.decode(video=0)]
    assert times == pytest.approx([i / 25 for i in range(24)])


def test_concat_refuses_mismatched_segments(tmp_path):
    a = make_clip(tmp_path / "a.mp4", num_frames=3, width=64, height=48)
    b = make_clip(tmp_path / "b.mp4", num_frames=3, width=32, height=32)
    with pytest.raises(ValueError, match="size"):
        concat_segments([a, b], tmp_path / "joined.mp4")
