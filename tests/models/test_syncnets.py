"""StableSyncNet and the eval SyncNet v2: published layouts load strictly and forwards match the original."""

from __future__ import annotations

import pytest
import torch

from latentsync.config import SYNCNET_CONFIGS, load_config
from latentsync.errors import CheckpointError, ConfigError
from latentsync.models.checkpoint_io import load_strict
from latentsync.models.stable_syncnet import StableSyncNet, load_stable_syncnet
from latentsync.models.syncnet_v2 import SyncNetV2, load_syncnet_v2
from tests.helpers import golden
from tests.helpers.aux_models import aux_state, write_aux_models

TINY_SYNCNET = {
    "audio_encoder": {
        "in_channels": 1,
        "block_out_channels": [32, 64],
        "downsample_factors": [[2, 1], 2],
        "attn_blocks": [0, 1],
        "dropout": 0.0,
    },
    "visual_encoder": {
        "in_channels": 12,
        "block_out_channels": [32, 64],
        "downsample_factors": [[1, 2], 2],
        "attn_blocks": [1, 0],
        "dropout": 0.0,
    },
}


@pytest.mark.parametrize("name", SYNCNET_CONFIGS)
def test_stable_syncnet_layout_matches_published_schema(name):
    with torch.device("meta"):
        model = StableSyncNet(load_config(name, "syncnet")["model"])
    sch = golden.schema(f"stable_{name}")
    state = {k: torch.empty(v["shape"], device="meta") for k, v in sch.items()}
    load_strict(model, state, f"schema stable_{name}")
    assert sum(p.numel() for p in model.parameters()) == sum(
        torch.Size(v["shape"]).numel() for v in sch.values()
    )


def test_stable_syncnet_forward_matches_original():
    model = StableSyncNet(load_config("syncnet_16_pixel_attn", "syncnet")["model"])
    load_strict(model, golden.fill("stable_syncnet_16_pixel_attn"), "detweights")
    ref = golden.reference("stable_syncnet_16_pixel_attn.forward")
    with torch.no_grad():
        vision, audio = model(ref["image_sequences"], ref["audio_sequences"])
    for ours, theirs in ((vision, ref["vision_embeds"]), (audio, ref["audio_embeds"])):
        # Unit vectors of 2048 components (~0.02 each): the bound is relative to the largest component
        # (measured 2.8e-7 / 0.11), and every embedding points the same way (cosine 1 - 1e-6).
        golden.assert_close_ref(ours, theirs, rtol_scale=1e-4 * theirs.abs().max().item())
        assert torch.nn.functional.cosine_similarity(ours, theirs, dim=1).min() > 1 - 1e-6
    assert torch.allclose(vision.norm(dim=1), torch.ones(2), atol=1e-5)


def test_load_stable_syncnet_reads_wrapped_checkpoint(tmp_path):
    source = StableSyncNet(TINY_SYNCNET)
    torch.save({"state_dict": source.state_dict(), "global_step": 7}, tmp_path / "syncnet.pt")
    loaded = load_stable_syncnet({"model": TINY_SYNCNET}, tmp_path / "syncnet.pt")
    images, mel = torch.randn(1, 12, 32, 64), torch.randn(1, 1, 16, 12)
    with torch.no_grad():
        expected, got = source(images, mel), loaded(images, mel)
    assert not loaded.training
    assert torch.equal(expected[0], got[0]) and torch.equal(expected[1], got[1])
    assert expected[0].shape == (1, 64 * 16 * 16) and expected[1].shape == (1, 64 * 4 * 6)


def test_load_stable_syncnet_rejects_other_checkpoint(tmp_path):
    path = write_aux_models(tmp_path, include=["syncnet_v2"])["syncnet_v2"]
    with pytest.raises(
        CheckpointError, match=r"missing keys.*unexpected keys.*Hint: .*syncnet_16_pixel_attn"
    ):
        load_stable_syncnet({"model": TINY_SYNCNET}, path)


def test_stable_syncnet_config_errors():
    with pytest.raises(ConfigError, match="visual_encoder"):
        StableSyncNet({"audio_encoder": TINY_SYNCNET["audio_encoder"]})
    bad = {**TINY_SYNCNET, "audio_encoder": {**TINY_SYNCNET["audio_encoder"], "attn_blocks": [0]}}
    with pytest.raises(ValueError, match="one entry per block"):
        StableSyncNet(bad)


@pytest.fixture(scope="module")
def syncnet_v2_file(tmp_path_factory):
    return write_aux_models(tmp_path_factory.mktemp("aux"), include=["syncnet_v2"])["syncnet_v2"]


def test_syncnet_v2_forward_matches_original(syncnet_v2_file):
    model = load_syncnet_v2(syncnet_v2_file)
    assert not model.training
    ref = golden.reference("syncnet_v2.forward")
    with torch.no_grad():
        golden.assert_close_ref(model.forward_lip(ref["lip"]), ref["lip_out"])
        golden.assert_close_ref(model.forward_lipfeat(ref["lip"]), ref["lipfeat_out"])
        golden.assert_close_ref(model.forward_aud(ref["mfcc"]), ref["aud_out"])


def test_syncnet_v2_layout_matches_published_schema():
    model = SyncNetV2()
    load_strict(model, aux_state("syncnet_v2"), "schema syncnet_v2")
    assert set(model.state_dict()) == set(golden.schema("syncnet_v2"))


def test_load_syncnet_v2_rejects_wrong_checkpoint(tmp_path):
    torch.save(StableSyncNet(TINY_SYNCNET).state_dict(), tmp_path / "wrong.model")
    with pytest.raises(CheckpointError, match=r"SyncNet v2 checkpoint .*wrong.model does not fit SyncNetV2"):
        load_syncnet_v2(tmp_path / "wrong.model")
