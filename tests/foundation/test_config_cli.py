"""Packaged configs match the original's sections and keys; the CLI lists its subcommands."""

from __future__ import annotations

import subprocess
import sys

import pytest

from latentsync import config
from latentsync.errors import ConfigError
from tests.helpers import golden


@pytest.mark.parametrize("name", config.UNET_CONFIGS)
def test_unet_configs_carry_the_reference_values(name):
    ref = golden.golden_json(f"reference_configs/unet_{name}.json")
    cfg = config.load_config(name, "unet")
    assert config.to_plain(cfg.model) == ref["model"]
    for section in ("run", "optimizer"):
        for key, value in ref[section].items():
            assert config.to_plain(cfg[section])[key] == value, (section, key)
    for key in ("num_frames", "resolution", "audio_sample_rate", "video_fps", "audio_feat_length"):
        assert cfg.data[key] == ref["data"][key]
    # Paths point at user data, not the original authors' machines.
    assert not str(cfg.data.train_output_dir).startswith("/")


@pytest.mark.parametrize("name", config.SYNCNET_CONFIGS)
def test_syncnet_configs_carry_the_reference_values(name):
    ref = golden.golden_json(f"reference_configs/{name}.json")
    cfg = config.load_config(name, "syncnet")
    assert config.to_plain(cfg.model) == ref["model"]
    assert {k: cfg.data[k] for k in ref["data"]} == ref["data"]


def test_config_by_path_and_overrides(tmp_path):
    path = tmp_path / "my.yaml"
    path.write_text("model:\n  in_channels: 13\ndata:\n  resolution: 64\n")
    cfg = config.load_config(str(path), "unet", ["data.resolution=128", "run.seed=3"])
    assert cfg.data.resolution == 128 and cfg.run.seed == 3
    assert config.load_config("unet_stage2_512", "unet").data.resolution == 512


def test_config_errors_are_clear(tmp_path):
    with pytest.raises(ConfigError, match="unknown unet config 'stage9'.*stage2_512"):
        config.load_config("stage9", "unet")
    with pytest.raises(ConfigError, match="not found"):
        config.load_config(str(tmp_path / "missing.yaml"), "unet")
    bad = tmp_path / "bad.yaml"
    bad.write_text("data: {resolution: 64}\n")
    with pytest.raises(ConfigError, match="no 'model' section"):
        config.load_config(str(bad), "unet")


def test_scheduler_and_audio_configs():
    assert config.scheduler_config() == golden.golden_json("scheduler_config.json")
    assert config.audio_config().audio.num_mels == 80


def test_cli_help_lists_subcommands():
    out = subprocess.run(
        [sys.executable, "-m", "latentsync", "--help"], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0
    assert "download" in out.stdout
    no_args = subprocess.run(
        [sys.executable, "-m", "latentsync"], capture_output=True, text=True, timeout=120
    )
    assert no_args.returncode == 2


def test_original_config_paths_name_packaged_configs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = config.load_config("configs/unet/stage2_512.yaml", "unet")
    assert cfg.data.resolution == 512
    assert config.load_config("configs/syncnet/syncnet_16_pixel.yaml", "syncnet").data.lower_half is True
