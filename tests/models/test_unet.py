"""UNet3DConditionModel: published layouts load strictly and outputs match the original."""

from __future__ import annotations

import gc

import pytest
import torch

from latentsync.models.checkpoint_io import load_strict
from latentsync.models.unet import UNet3DConditionModel
from latentsync.models.unet_io import load_unet, unet_model_config
from tests.helpers import golden
from tests.helpers.tiny_models import temporal_pe, unet_state

LAYOUTS = [
    ("stage1", "unet_stage1"),
    ("stage1_512", "unet_stage1"),
    ("stage2", "unet_stage2"),
    ("stage2_512", "unet_stage2"),
    ("stage2_efficient", "unet_stage2_efficient"),
]


@pytest.fixture(scope="module")
def tiny_config() -> dict:
    return golden.golden_json("unet_tiny.config.json")


@pytest.fixture(scope="module")
def tiny_unet(tiny_config) -> UNet3DConditionModel:
    return load_unet(tiny_config, unet_state("unet_tiny"))


@pytest.fixture(scope="module")
def tiny_ref() -> dict[str, torch.Tensor]:
    return golden.reference("unet_tiny.forward")


def test_tiny_built_model_loads_filled_checkpoint_strictly(tiny_config):
    model = UNet3DConditionModel.from_config(tiny_config)
    state = unet_state("unet_tiny")
    load_strict(model, state, "unet_tiny")
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[key]), key


def test_own_position_tables_equal_the_published_buffers(tiny_config):
    model = UNet3DConditionModel.from_config(tiny_config)
    tables = {k: v for k, v in model.state_dict().items() if k.endswith("pos_encoder.pe")}
    assert len(tables) == 2 * 2 * 4 + 2 * 3 * 4  # 2 attention blocks per module, 8 down + 12 up modules
    for key, table in tables.items():
        assert table.shape[:2] == (1, 24), key
        torch.testing.assert_close(table, temporal_pe(24, table.shape[2]), rtol=0, atol=1e-6)


def test_new_model_starts_with_zero_motion_output_and_zero_io_convs(tiny_config):
    model = UNet3DConditionModel.from_config(tiny_config)
    proj_out = model.down_blocks[0].motion_modules[0].temporal_transformer.proj_out
    assert proj_out.weight.abs().sum() == 0 and proj_out.bias.abs().sum() == 0
    assert model.conv_in.weight.abs().sum() == 0 and model.conv_out.weight.abs().sum() == 0


@pytest.mark.parametrize("config_name,schema_name", LAYOUTS)
def test_published_layout_loads_strictly(config_name, schema_name):
    """Every key and shape of the published layout, checked on a weightless (meta) model."""
    schema = golden.schema(schema_name)
    with torch.device("meta"):
        model = UNet3DConditionModel.from_config(unet_model_config(config_name))
        state = {k: torch.empty(v["shape"]) for k, v in schema.items()}
    load_strict(model, state, schema_name)
    own_buffers = {k for k, _ in model.named_buffers()}
    assert own_buffers == {k for k, v in schema.items() if v["kind"] == "buffer"}
    params = sum(p.numel() for p in model.parameters())
    assert params == sum(torch.Size(v["shape"]).numel() for v in schema.values() if v["kind"] == "param")
    if schema_name == "unet_stage2":
        assert round(params / 1e9, 2) == 1.27


@pytest.mark.parametrize("timestep_kind", ["zero_dim_tensor", "int", "one_element_tensor", "per_batch"])
def test_tiny_forward_matches_golden(tiny_unet, tiny_ref, timestep_kind):
    t = int(tiny_ref["timestep"].reshape(-1)[0])
    timestep = {
        "zero_dim_tensor": torch.tensor(t),
        "int": t,
        "one_element_tensor": torch.tensor([t]),
        "per_batch": torch.tensor([t, t]),
    }[timestep_kind]
    with torch.no_grad():
        out = tiny_unet(tiny_ref["sample"], timestep, encoder_hidden_states=tiny_ref["encoder_hidden_states"])
    diff = golden.assert_close_ref(out.sample, tiny_ref["out"])
    assert diff < 1e-4


@pytest.mark.parametrize("channels_last", [False, True])
def test_convolutions_get_maps_in_the_weights_layout(tiny_config, tiny_ref, monkeypatch, channels_last):
    """Token -> map permutes must not leak channels-last strides into NCHW layers, nor NCHW into
    channels-last ones (``--channels-last``).

    A mismatch makes oneDNN reorder weights or inputs on every call: the leak of channels-last
    strides made the full-size UNet ~1.2x slower than the original.
    """
    model = load_unet(tiny_config, unet_state("unet_tiny"))
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    wanted = torch.channels_last if channels_last else torch.contiguous_format
    layouts = []
    conv_forward = torch.nn.Conv2d._conv_forward

    def recording(self, x, weight, bias):
        layouts.append(x.is_contiguous(memory_format=wanted))
        return conv_forward(self, x, weight, bias)

    monkeypatch.setattr(torch.nn.Conv2d, "_conv_forward", recording)
    with torch.no_grad():
        model(tiny_ref["sample"], 777, tiny_ref["encoder_hidden_states"])
    assert len(layouts) > 40
    checked = layouts[1:] if channels_last else layouts  # conv_in sees the caller's NCDHW sample
    assert all(checked), f"{checked.count(False)} of {len(checked)} convolutions got another layout"


def test_audio_given_per_video_frame_as_4d_is_the_same(tiny_unet, tiny_ref):
    audio = tiny_ref["encoder_hidden_states"]
    with torch.no_grad():
        flat = tiny_unet(tiny_ref["sample"], 777, audio).sample
        nested = tiny_unet(tiny_ref["sample"], 777, audio.reshape(2, 4, 50, 384)).sample
    torch.testing.assert_close(nested, flat, rtol=0, atol=1e-6)


def test_cfg_batch_items_do_not_mix(tiny_unet, tiny_ref):
    """Audio rows are (batch, frame)-ordered: changing item 1's audio leaves item 0 untouched."""
    audio = tiny_ref["encoder_hidden_states"].clone()
    with torch.no_grad():
        before = tiny_unet(tiny_ref["sample"], 777, audio).sample
        audio[4:] = 0  # item 1 = unconditional
        after = tiny_unet(tiny_ref["sample"], 777, audio).sample
    torch.testing.assert_close(after[0], before[0], rtol=0, atol=1e-6)
    assert (after[1] - before[1]).abs().max() > 1e-3


def test_sizes_not_divisible_by_eight_keep_their_shape(tiny_unet):
    sample = torch.randn(1, 13, 2, 12, 20, generator=torch.Generator().manual_seed(0))
    audio = torch.randn(2, 50, 384, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        out = tiny_unet(sample, 10, audio).sample
    assert out.shape == (1, 4, 2, 12, 20)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize(
    "dtype,mean_tol,max_tol",
    # fractions of max|ref|; measured: bf16 mean 0.4 %, max 2.8 %; fp16 mean 0.05 %, max 0.3 %
    [(torch.bfloat16, 0.01, 0.06), (torch.float16, 0.002, 0.01)],
)
def test_half_precision_forward_is_close(tiny_config, tiny_ref, dtype, mean_tol, max_tol):
    model = load_unet(tiny_config, unet_state("unet_tiny"), dtype=dtype)
    assert model.dtype == dtype
    with torch.no_grad():
        out = model(
            tiny_ref["sample"].to(dtype),
            torch.tensor(777),
            encoder_hidden_states=tiny_ref["encoder_hidden_states"].to(dtype),
        ).sample
    assert out.dtype == dtype
    ref = tiny_ref["out"]
    err = (out.float() - ref).abs()
    assert err.mean().item() < mean_tol * ref.abs().max().item()
    assert err.max().item() < max_tol * ref.abs().max().item()


def test_gradient_checkpointing_gives_the_same_gradients(tiny_config):
    torch.manual_seed(0)
    sample = torch.randn(1, 13, 2, 8, 8)
    audio = torch.randn(2, 50, 384)
    grads = []
    for checkpointing in (False, True):
        model = load_unet(tiny_config, unet_state("unet_tiny")).train()
        if checkpointing:
            model.enable_gradient_checkpointing()
            assert all(b.gradient_checkpointing for b in model.down_blocks)
        model.zero_grad()
        model(sample, 500, audio).sample.square().mean().backward()
        grads.append({n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None})
    assert grads[0].keys() == grads[1].keys() and len(grads[0]) > 100
    for name, grad in grads[0].items():
        torch.testing.assert_close(grads[1][name], grad, rtol=1e-4, atol=1e-6, msg=name)


@pytest.mark.slow
def test_full_size_stage2_512_forward_matches_golden():
    ref = golden.reference("unet_stage2_512.forward")
    model = load_unet("stage2_512", unet_state("unet_stage2"))
    try:
        with torch.no_grad():
            out = model(
                ref["sample"], ref["timestep"].reshape(()), encoder_hidden_states=ref["encoder_hidden_states"]
            )
        assert golden.assert_close_ref(out.sample, ref["out"]) < 1e-4
    finally:
        del model
        gc.collect()
