"""hyperIQA (KonIQ weights layout): strict load, HyperNet + TargetNet parity, clip scoring."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from latentsync.errors import CheckpointError, InputError
from latentsync.eval.iqa_score import clip_quality_score, quality_input, sample_frames
from latentsync.models.hyperiqa import HyperNet, TargetNet, load_hyperiqa
from tests.helpers import golden
from tests.helpers.aux_models import write_aux_models


@pytest.fixture(scope="module")
def hyper_net(tmp_path_factory) -> HyperNet:
    path = write_aux_models(tmp_path_factory.mktemp("aux"), include=["hyperiqa"])["hyperiqa"]
    return load_hyperiqa(path)


@pytest.fixture(scope="module")
def reference() -> dict[str, torch.Tensor]:
    return golden.reference("hyperiqa_koniq.forward")


def test_layout_matches_published_schema(hyper_net):
    own = {k: list(v.shape) for k, v in hyper_net.state_dict().items()}
    assert own == {k: v["shape"] for k, v in golden.schema("hyperiqa_koniq").items()}
    assert not hyper_net.training


def test_hypernet_and_targetnet_match_original(hyper_net, reference):
    with torch.no_grad():
        paras = hyper_net(reference["input_normalized"])
        pred = TargetNet(paras)(paras["target_in_vec"])
    golden.assert_close_ref(paras["target_in_vec"], reference["target_in_vec"])
    golden.assert_close_ref(pred, reference["pred"])
    assert paras["target_fc1w"].shape == (3, 112, 224, 1, 1) and paras["target_fc5b"].shape == (3, 1)


def test_quality_input_is_centre_crop_with_imagenet_normalisation(reference):
    # The golden's first image is the 224 centre crop of the aligned 512 face of demo1 frame 0.
    face512 = golden.reference("align_restore")["frame0_face512"].numpy()
    x = quality_input([face512])
    assert x.shape == (1, 3, 224, 224)
    golden.assert_close_ref(x[0], reference["input_normalized"][0], rtol_scale=1e-5)


def test_clip_score_is_mean_over_first_middle_last(hyper_net, reference):
    face512 = golden.reference("align_restore")["frame0_face512"].numpy()
    score = clip_quality_score([face512], hyper_net)
    assert abs(score - reference["pred"][0].item()) <= 1e-3
    frames = [np.full((4, 4, 3), i, dtype=np.uint8) for i in range(7)]
    assert [int(f[0, 0, 0]) for f in sample_frames(frames)] == [0, 3, 6]


def test_small_frames_are_zero_padded_like_torchvision():
    x = quality_input([np.full((200, 230, 3), 255, dtype=np.uint8)])
    assert x.shape == (1, 3, 224, 224)
    # 12 padded rows on top, 12 at the bottom; padding is black (0) before normalisation.
    black = (0 - 0.485) / 0.229
    white = (1 - 0.485) / 0.229
    assert torch.allclose(x[0, 0, :12], torch.full((12, 224), black))
    assert torch.allclose(x[0, 0, 12:212], torch.full((200, 224), white))
    assert torch.allclose(x[0, 0, 212:], torch.full((12, 224), black))


def test_bad_inputs_raise_input_error(hyper_net):
    with pytest.raises(InputError, match="without frames"):
        clip_quality_score([], hyper_net)
    with pytest.raises(InputError, match="RGB frames"):
        quality_input([np.zeros((224, 224), dtype=np.uint8)])


def test_load_hyperiqa_rejects_wrong_checkpoint(tmp_path):
    path = write_aux_models(tmp_path, include=["s3fd"])["s3fd"]
    with pytest.raises(CheckpointError, match=r"does not fit HyperNet: .*missing keys: res\.conv1\.weight"):
        load_hyperiqa(path)
