"""load_unet / save_unet: published formats, round trips and errors a user can act on."""

from __future__ import annotations

import pytest
import torch

from latentsync.errors import CheckpointError, InputError
from latentsync.models.unet_io import load_unet, read_unet_state, save_unet
from tests.helpers import golden
from tests.helpers.tiny_models import unet_state


@pytest.fixture(scope="module")
def tiny_config() -> dict:
    return golden.golden_json("unet_tiny.config.json")


@pytest.fixture(scope="module")
def tiny_ref() -> dict[str, torch.Tensor]:
    return golden.reference("unet_tiny.forward")


def _forward(model, ref) -> torch.Tensor:
    with torch.no_grad():
        return model(ref["sample"], torch.tensor(777), ref["encoder_hidden_states"]).sample


def test_published_pt_with_its_yaml_matches_golden(tiny_models, tiny_ref):
    model = load_unet(tiny_models / "unet_tiny.yaml", tiny_models / "unet_tiny.pt")
    assert not model.training
    golden.assert_close_ref(_forward(model, tiny_ref), tiny_ref["out"])


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_save_then_load_round_trips(tmp_path, tiny_config, tiny_ref, suffix):
    model = load_unet(tiny_config, unet_state("unet_tiny"))
    path = save_unet(model, tmp_path / f"unet{suffix}", global_step=1234)
    state, step = read_unet_state(path)
    assert step == 1234
    assert state.keys() == model.state_dict().keys()
    assert any(k.endswith("pos_encoder.pe") for k in state)
    reloaded = load_unet(tiny_config, path).state_dict()
    for key, value in model.state_dict().items():
        assert torch.equal(reloaded[key], value), key


def test_published_pt_layout_is_state_dict_and_global_step(tmp_path, tiny_config):
    path = save_unet(load_unet(tiny_config, unet_state("unet_tiny")), tmp_path / "latentsync_unet.pt", 7)
    raw = torch.load(path, weights_only=True)
    assert set(raw) == {"state_dict", "global_step"} and raw["global_step"] == 7


def test_bare_state_dict_file_and_missing_pe_buffers_load(tmp_path, tiny_config, tiny_ref):
    state = {k: v for k, v in unet_state("unet_tiny").items() if not k.endswith(".pe")}
    torch.save(state, tmp_path / "bare.pt")
    model = load_unet(tiny_config, tmp_path / "bare.pt")
    golden.assert_close_ref(_forward(model, tiny_ref), tiny_ref["out"])


def test_load_in_half_precision(tiny_config):
    model = load_unet(tiny_config, unet_state("unet_tiny"), dtype=torch.float16)
    assert {p.dtype for p in model.parameters()} == {torch.float16}


def _meta_state(schema_name: str) -> dict[str, torch.Tensor]:
    """A checkpoint of the published layout without the cost of real weights."""
    return {k: torch.empty(v["shape"], device="meta") for k, v in golden.schema(schema_name).items()}


@pytest.mark.parametrize(
    "config_name,schema_name,hint",
    [
        ("stage2_512", "unet_stage1", "checkpoint has no motion modules: use a stage1 config"),
        ("stage2", "unet_stage1", "checkpoint has no motion modules: use a stage1 config"),
        ("stage1_512", "unet_stage2", "checkpoint has motion modules: use a stage2 config"),
        ("stage2_efficient", "unet_stage2", "motion modules in the down blocks: use a stage2 config"),
        ("stage2_512", "unet_stage2_efficient", "motion modules only in the decoder: use stage2_efficient"),
    ],
)
def test_wrong_stage_gives_a_hinted_error(config_name, schema_name, hint):
    with pytest.raises(CheckpointError) as info:
        load_unet(config_name, _meta_state(schema_name))
    message = str(info.value)
    assert hint in message
    assert "does not fit UNet3DConditionModel" in message


def test_tiny_stage1_file_into_stage2_config(tmp_path, tiny_config):
    stage1_config = dict(tiny_config, use_motion_module=False)
    stage1 = load_unet(stage1_config, {k: v for k, v in unet_state("unet_tiny").items() if "motion" not in k})
    path = save_unet(stage1, tmp_path / "stage1.pt")
    with pytest.raises(CheckpointError, match="no motion modules: use a stage1 config") as info:
        load_unet(tiny_config, path)
    assert "missing keys" in str(info.value) and str(path) in str(info.value)


def test_wrong_channel_count_is_named(tiny_config):
    with pytest.raises(CheckpointError, match="conv_in takes 13 channels but the config says in_channels=9"):
        load_unet(dict(tiny_config, in_channels=9), unet_state("unet_tiny"))


def test_not_a_unet_checkpoint(tmp_path, tiny_config):
    torch.save({"state_dict": {"encoder.weight": torch.zeros(2)}, "global_step": 0}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not a LatentSync UNet checkpoint"):
        load_unet(tiny_config, tmp_path / "other.pt")


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_truncated_file_gives_a_clear_error(tmp_path, tiny_config, suffix):
    path = save_unet(load_unet(tiny_config, unet_state("unet_tiny")), tmp_path / f"unet{suffix}")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="cannot read checkpoint") as info:
        load_unet(tiny_config, path)
    assert str(path) in str(info.value)


def test_missing_file_is_an_input_error(tmp_path, tiny_config):
    with pytest.raises(InputError, match="checkpoint not found"):
        load_unet(tiny_config, tmp_path / "nope.pt")
