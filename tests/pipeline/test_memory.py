"""Device memory: offload equals no offload, bounded VAE/attention batches, the estimate, one-line OOM."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from latentsync import cli
from latentsync.errors import ConfigError, OutOfMemory
from latentsync.models.motion_module import TemporalAttention
from latentsync.pipeline import estimate as est
from latentsync.pipeline import memory_trace
from latentsync.pipeline.fast_paths import autocast_weights_dtype, check_autocast
from latentsync.pipeline.generate import LipsyncGenerator
from latentsync.pipeline.journal import Journal, work_dir_for
from latentsync.pipeline.model_loading import load_inference_models
from latentsync.pipeline.oom import memory_stage
from latentsync.pipeline.runner import run_inference
from tests.helpers import golden, media
from tests.helpers.tiny_models import tiny_infer_argv, tiny_model_args
from tests.pipeline.conftest import tiny_options

TINY_UNET_CONFIG = "unet_tiny.yaml"


def _frames(path):
    return np.stack(media.read_frames(path))


def test_offload_model_and_sequential_give_the_same_frames(tmp_path, tiny_models, media_dir_small, clip_700):
    clip, audio = clip_700, media_dir_small / "speech.wav"  # 700x700: not a multiple of 16
    outputs, offloaders = {}, {}
    for mode in ("none", "model", "sequential"):
        options = tiny_options(tiny_models, clip, audio, tmp_path / f"{mode}.mp4", offload=mode, steps=2)
        models = load_inference_models(options)
        offloaders[mode] = models.offloader
        run_inference(options, models)
        outputs[mode] = _frames(options.output)
    assert np.array_equal(outputs["none"], outputs["model"])
    assert np.array_equal(outputs["none"], outputs["sequential"])
    # model offload really scheduled one model at a time, in the order the pipeline uses them
    moves = offloaders["model"].moves
    assert moves[:4] == ["whisper", "vae", "unet", "vae"], moves
    assert offloaders["none"] is None


def test_low_vram_preset_sets_offload_and_slicing(tmp_path):
    options = tiny_options(
        tmp_path, tmp_path / "v.mp4", tmp_path / "a.wav", tmp_path / "o.mp4", low_vram=True
    )
    assert (options.offload, options.vae_slicing, options.dtype) == ("model", True, "auto")
    kept = tiny_options(
        tmp_path,
        tmp_path / "v.mp4",
        tmp_path / "a.wav",
        tmp_path / "o.mp4",
        low_vram=True,
        offload="sequential",
    )
    assert kept.offload == "sequential"


def _generator(models, steps=1):
    mask = golden.reference("pipeline_chunk")["mask"]
    return LipsyncGenerator(models.unet, models.vae, mask, num_inference_steps=steps)


def test_vae_sub_batches_bound_the_call_and_keep_the_output(tiny_inference_models, monkeypatch):
    ref = golden.reference("pipeline_chunk")
    faces = torch.stack([ref["faces_uint8"], ref["faces_uint8"].flip(0), ref["faces_uint8"]])  # 3 chunks
    audio = torch.stack([ref["audio_embeds"]] * 3)
    gen = _generator(tiny_inference_models)
    whole = gen.generate(faces, audio, ref["init_noise"])
    sizes: list[int] = []
    vae = tiny_inference_models.vae
    encode, decode = vae.encode, vae.decode
    monkeypatch.setattr(vae, "encode", lambda x: (sizes.append(x.shape[0]), encode(x))[1])
    monkeypatch.setattr(vae, "decode", lambda z: (sizes.append(z.shape[0]), decode(z))[1])
    gen.vae_frames = 4
    split = gen.generate(faces, audio, ref["init_noise"])
    n = faces.shape[0] * faces.shape[1]
    assert max(sizes) == 4 and sum(sizes) == 3 * n  # masked + reference encodes, one decode
    # each frame goes through the VAE on its own; only the CPU kernels' batch blocking may differ
    torch.testing.assert_close(split.output, whole.output, rtol=0, atol=1e-5)


def test_temporal_attention_split_is_bit_identical():
    torch.manual_seed(0)
    attention = TemporalAttention(64, heads=8, dim_head=8, position_encoding=True, max_len=24).eval()
    x = torch.randn(2 * 2, 37, 64)  # b=2 videos, f=2 frames, s=37 pixels
    with torch.no_grad():
        whole = attention(x, num_frames=2)
        attention.max_sequences = 5  # 74 sequences -> 15 calls
        split = attention(x, num_frames=2)
    assert torch.equal(whole, split)


def test_tracer_counts_exactly_what_a_call_keeps_alive():
    def build():
        return torch.nn.Sequential(torch.nn.Linear(100, 400), torch.nn.ReLU(), torch.nn.Linear(400, 10))

    def call(model, _mode):
        model(torch.empty(32, 100))

    # input 32x100, hidden 32x400 twice (linear out, relu out) alive together, then 32x10
    expected = 4 * (32 * 100 + 2 * 32 * 400)
    assert memory_trace.peak_call_bytes(build, call, torch.float32) == expected
    assert memory_trace.parameter_bytes(build, torch.float16) == 2 * (100 * 400 + 400 + 400 * 10 + 10)


def _tiny_settings(tiny_models, **kw) -> est.RunSettings:
    kw.setdefault("dtype", "float32")
    return est.RunSettings(str(tiny_models / TINY_UNET_CONFIG), 64, 16, **kw)


def test_estimate_orders_the_settings_as_memory_does(tiny_models):
    plain = est.estimate(_tiny_settings(tiny_models))
    stage = {s.stage: s for s in plain.stages}
    four = {s.stage: s for s in est.estimate(_tiny_settings(tiny_models, batch_chunks=4)).stages}
    assert four["UNet"].activations == 4 * stage["UNet"].activations
    assert four["VAE decode"].activations == stage["VAE decode"].activations  # sub-batches of one chunk
    sliced = {s.stage: s for s in est.estimate(_tiny_settings(tiny_models, vae_slicing=True)).stages}
    assert sliced["VAE decode"].activations * 16 == stage["VAE decode"].activations
    model = est.estimate(_tiny_settings(tiny_models, offload="model"))
    sequential = est.estimate(_tiny_settings(tiny_models, offload="sequential"))
    assert sequential.peak < model.peak < plain.peak
    half = est.estimate(_tiny_settings(tiny_models, dtype="float16"))
    whisper = est.weight_bytes("whisper", str(tiny_models / TINY_UNET_CONFIG), torch.float32)[0]
    assert 2 * (half.stages[2].weights - whisper) == plain.stages[2].weights - whisper  # Whisper stays fp32
    assert "peak ~" in plain.table()


def test_check_before_loading_names_a_setting_that_fits(tiny_models):
    settings = _tiny_settings(tiny_models, device_type="cuda", batch_chunks=4)
    needed = est.estimate(settings).peak
    with_offload = est.estimate(
        _tiny_settings(tiny_models, device_type="cuda", batch_chunks=1, vae_slicing=True, offload="model")
    ).peak
    free = int(with_offload / est.FIT_MARGIN) + 1
    budget = est.MemoryBudget(torch.device("cuda"), free, settings)
    with pytest.raises(OutOfMemory) as caught:
        est.check_fits(None, budget)
    message = str(caught.value)
    assert message.startswith(
        f"out of GPU memory at the check before loading (needs ~{needed / est.GB:.1f} GB"
    )
    assert "try --batch-chunks 1 --low-vram" in message
    assert est.estimate(settings).peak > free


def test_estimate_command_prints_a_table(tiny_models, capsys):
    argv = ["infer", "--estimate", "--batch-chunks", "2", *tiny_model_args(tiny_models)]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    for stage in ("Whisper", "VAE encode", "UNet", "VAE decode"):
        assert stage in out
    assert "batch-chunks 2" in out and "peak ~" in out


def test_autocast_forces_fp32_weights_and_rejects_what_the_device_lacks(monkeypatch):
    assert autocast_weights_dtype("bf16", "auto") == "fp32"
    assert autocast_weights_dtype(None, "fp16") == "fp16"
    with pytest.raises(ConfigError, match="drop --dtype fp16"):
        autocast_weights_dtype("fp16", "fp16")
    with pytest.raises(ConfigError, match="needs a GPU"):
        check_autocast("fp16", "cpu")
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (7, 5))
    with pytest.raises(ConfigError, match="Ampere"):
        check_autocast("bf16", torch.device("cuda"))
    check_autocast("fp16", torch.device("cuda"))
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (8, 0))
    check_autocast("bf16", torch.device("cuda"))


def test_fingerprint_hashes_the_resolved_device_and_dtype(
    tmp_path, tiny_models, tiny_inference_models, media_dir_small, monkeypatch
):
    options = tiny_options(
        tiny_models, media_dir_small / "clip.mp4", media_dir_small / "speech.wav", tmp_path / "o.mp4"
    )
    assert options.fingerprint("cuda", torch.float16) != options.fingerprint("cpu", torch.float32)
    seen = []
    real_open = Journal.open
    monkeypatch.setattr(Journal, "open", lambda self, fp, *a: (seen.append(fp), real_open(self, fp, *a))[1])
    run_inference(options, tiny_inference_models)
    assert seen == [options.fingerprint("cpu", torch.float32)]
    assert seen[0] != options.fingerprint()  # not "auto"


def _patch_stage(monkeypatch, stage: str, exc: BaseException, models=None):
    """Make the code of ``stage`` raise ``exc`` (as the device would)."""

    def boom(*_a, **_k):
        raise exc

    from latentsync.audio import whisper
    from latentsync.pipeline import faces, generate, run

    targets = {
        "loading the models": (models_module(), "load_unet"),
        "audio features": (whisper.WhisperFeatures, "_hidden_states"),
        "face detection": (faces.FaceStage, "process"),
        "VAE encode": (generate.LipsyncGenerator, "_encode"),
        "UNet": (generate.LipsyncGenerator, "_unet_call"),
        "VAE decode": (generate.LipsyncGenerator, "_decode"),
        "paste-back": (run, "paste_back_roi"),
    }
    owner, name = targets[stage]
    monkeypatch.setattr(owner, name, boom)


def models_module():
    """Where the run looks ``load_unet`` up (model loading imports it by name)."""
    from latentsync.pipeline import model_loading

    return model_loading


STAGE_ERRORS = [
    ("loading the models", torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"), "GPU"),
    ("audio features", RuntimeError("MPS backend out of memory (MPS allocated: 7.1 GB)"), "GPU"),
    ("face detection", MemoryError(), "host"),
    ("VAE encode", torch.OutOfMemoryError("CUDA out of memory."), "GPU"),
    ("UNet", torch.OutOfMemoryError("CUDA out of memory."), "GPU"),
    ("VAE decode", RuntimeError("MPS backend out of memory"), "GPU"),
    (
        "paste-back",
        RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 1 GB"),
        "host",
    ),
]


@pytest.mark.parametrize("stage,exc,memory", STAGE_ERRORS, ids=[s for s, _, _ in STAGE_ERRORS])
def test_injected_oom_is_one_line_exit_2(
    stage, exc, memory, tmp_path, tiny_models, media_dir_small, monkeypatch, capsys
):
    _patch_stage(monkeypatch, stage, exc)
    argv = tiny_infer_argv(
        tiny_models,
        media_dir_small / "clip.mp4",
        media_dir_small / "speech.wav",
        tmp_path / "o.mp4",
        "--steps",
        "1",
        "--quiet",
        "--face-detector",
        "mediapipe",  # not auto: its once-per-process fallback warning would be a second line
    )
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"error: out of {memory} memory at {stage}"), err
    assert ": try " in err
    if memory == "GPU":
        assert "(needs ~" in err and " free)" in err
    assert not (tmp_path / "o.mp4").exists()


def test_oom_keeps_finished_segments_and_the_app_says_the_same(
    tmp_path, tiny_models, media_dir_small, monkeypatch
):
    from latentsync.app.errors import friendly_message
    from latentsync.pipeline import generate

    clip, audio = media_dir_small / "clip.mp4", media_dir_small / "speech.wav"
    options = tiny_options(tiny_models, clip, audio, tmp_path / "o.mp4", segment_chunks=1)
    work = work_dir_for(options.output)
    real = generate.LipsyncGenerator._unet_call
    calls = []

    def second_chunk_fails(self, *args, **kwargs):
        calls.append(1)
        if len(calls) > 2:  # chunk 3: wait until chunk 1's segment is closed, then run out of memory
            deadline = time.monotonic() + 30
            while not list(work.glob("seg_*[0-9].mp4")) and time.monotonic() < deadline:
                time.sleep(0.05)
            raise torch.OutOfMemoryError("CUDA out of memory.")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(generate.LipsyncGenerator, "_unet_call", second_chunk_fails)
    with pytest.raises(OutOfMemory) as caught:
        run_inference(options, load_inference_models(options))
    assert caught.value.stage == "UNet"
    assert list(work.glob("seg_*[0-9].mp4")), "the finished segment was not kept"
    assert friendly_message(caught.value) == str(caught.value) + "."
    assert friendly_message(torch.OutOfMemoryError("CUDA out of memory.")).startswith("out of GPU memory at")
    monkeypatch.setattr(generate.LipsyncGenerator, "_unet_call", real)
    summary = run_inference(options, load_inference_models(options))
    assert summary.resumed_from in (16, 32)


def test_memory_stage_leaves_other_errors_alone():
    with pytest.raises(RuntimeError, match="shape mismatch"):
        with memory_stage("UNet"):
            raise RuntimeError("shape mismatch")
    with pytest.raises(OutOfMemory, match="at UNet"):
        with memory_stage("UNet"):
            raise torch.OutOfMemoryError("CUDA out of memory.")


def test_local_workers_never_share_a_gpu(monkeypatch):
    from latentsync.batch import batch_devices
    from latentsync.pipeline.workers import one_worker_per_gpu

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert batch_devices("auto", 4) == ["cuda:0", "cuda:1"]
    assert batch_devices("cuda", 4) == ["cuda:0", "cuda:1"]
    assert batch_devices("cuda:1", 4) == ["cuda:1"]
    assert batch_devices("auto", 1) == ["cuda:0"]
    assert batch_devices("cpu", 4) == ["cpu"] * 4
    assert one_worker_per_gpu(["cuda:0", "cuda:1", "cuda:0"]) == ["cuda:0", "cuda:1"]  # infer --workers 3
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert batch_devices("auto", 4) == ["cpu"] * 4  # CPU-only machine: processes share the cores as asked
