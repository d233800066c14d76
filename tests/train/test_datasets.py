"""Training datasets: sample contents against the clip itself, determinism, and skipping bad clips."""

from __future__ import annotations

import logging

import numpy as np
import torch

from latentsync.audio.io import load_audio
from latentsync.audio.syncnet_mel import syncnet_melspectrogram
from latentsync.face.mask import mouth_mask
from latentsync.train.audio_cache import ClipAudio
from latentsync.train.clips import list_clips
from latentsync.train.syncnet_dataset import SyncNetDataset
from latentsync.train.unet_dataset import UNetDataset
from latentsync.video.reader import read_all_frames


def test_list_clips_from_fileslist_and_directory(face_clips, fileslist):
    assert list_clips(fileslist) == face_clips
    assert list_clips(None, face_clips[0].parent) == sorted(face_clips)


def test_syncnet_sample_matches_its_clip(face_clips, tmp_path):
    data = SyncNetDataset(face_clips[:1], 64, audio=ClipAudio(tmp_path / "mel"), seed=0, cache_clips=2)
    frames = read_all_frames(face_clips[0])
    mel = torch.from_numpy(syncnet_melspectrogram(load_audio(face_clips[0])))
    labels = set()
    for index in range(6):
        sample = data[index]
        assert sample["frames"].shape == (16, 3, 64, 64) and sample["audio_samples"].shape == (1, 80, 52)
        start = [
            s
            for s in range(len(frames) - 15)
            if torch.equal(sample["audio_samples"][0], mel[:, int(80 * s / 25) : int(80 * s / 25) + 52])
        ]
        assert start, "the mel window is not a window of the clip's mel"
        pixels = torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 127.5 - 1
        match = [
            s
            for s in range(len(frames) - 15)
            if torch.allclose(pixels[s : s + 16], sample["frames"], atol=1e-5)
        ]
        assert len(match) == 1
        assert (match[0] in start) == bool(sample["y"].item())
        labels.add(sample["y"].item())
        again = data[index]
        assert torch.equal(again["frames"], sample["frames"]) and torch.equal(again["y"], sample["y"])
    assert labels == {0.0, 1.0}
    assert list((tmp_path / "mel").glob("clip0_*_mel.pt"))  # cached per clip


def test_unet_sample_has_masked_and_reference_frames(face_clips, tiny_models, tmp_path):
    data = UNetDataset(
        face_clips[:1],
        64,
        audio=ClipAudio(tmp_path / "mel", tmp_path / "whisper", tiny_models / "whisper_tiny.pt"),
        seed=5,
        cache_clips=2,
    )
    s = data[0]
    assert s["audio_embeds"].shape == (16, 50, 384) and s["mel"].shape == (1, 80, 52)
    mask = torch.from_numpy(mouth_mask(64))
    assert torch.equal(s["masks"][:, 0], mask.expand(16, -1, -1))
    assert torch.allclose(s["masked_pixel_values"], s["gt_pixel_values"] * mask)
    frames = torch.from_numpy(read_all_frames(face_clips[0])).permute(0, 3, 1, 2).float() / 127.5 - 1
    start = int(s["start_idx"])
    assert torch.allclose(frames[start : start + 16], s["gt_pixel_values"], atol=1e-5)
    ref = [
        r
        for r in range(len(frames) - 15)
        if torch.allclose(frames[r : r + 16], s["ref_pixel_values"], atol=1e-5)
    ]
    assert ref and abs(ref[0] - start) >= 16
    assert list((tmp_path / "whisper").glob("clip0_*_whisper.pt"))


def test_corrupt_and_short_clips_are_skipped_and_counted(face_clips, tmp_path, caplog):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video" * 100)
    from latentsync.audio.io import read_pcm16
    from latentsync.video.clip_file import write_clip

    short = write_clip(
        tmp_path / "short.mp4", read_all_frames(face_clips[0])[:20], read_pcm16(face_clips[0])[: 20 * 640]
    )
    data = SyncNetDataset([broken, short, face_clips[0]], 64, seed=0, cache_clips=2)
    with caplog.at_level(logging.WARNING):
        samples = [data[i] for i in range(8)]
    assert all(s["frames"].shape == (16, 3, 64, 64) for s in samples)
    assert data.pool.bad == {broken, short} and data.pool.skipped == 2
    assert "2 skipped so far" in caplog.text
    assert np.isfinite(samples[0]["audio_samples"].numpy()).all()
