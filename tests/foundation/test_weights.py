"""The weight resolver, the offline message and downloads against a stand-in hub on 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from latentsync import weights
from latentsync.errors import MissingWeightsError
from tests.helpers.cli import run_cli
from tests.helpers.fake_hub import fake_hub

REPO = Path(__file__).resolve().parents[2]


def _cli(args, env_extra, cwd):
    return run_cli(args, env_extra, cwd, timeout=120)


def _touch(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_resolver_order_explicit_then_env_then_cwd(isolated, monkeypatch):
    specs = weights.model_files("1.6")
    cwd_unet = _touch(isolated / "checkpoints" / "latentsync_unet.pt")
    env_dir = isolated / "envdir"
    env_unet = _touch(env_dir / "latentsync_unet.pt")
    for name in weights.VAE_FILES:
        _touch(isolated / "checkpoints" / "sd-vae-ft-mse" / name)
    _touch(isolated / "checkpoints" / "whisper" / "tiny.pt")

    assert weights.resolve(specs)["unet"] == cwd_unet
    monkeypatch.setenv("LATENTSYNC_CHECKPOINTS", str(env_dir))
    found = weights.resolve(specs)
    assert found["unet"] == env_unet
    assert (
        found["whisper"] == isolated / "checkpoints" / "whisper" / "tiny.pt"
    )  # falls through to ./checkpoints
    assert found["vae"] == isolated / "checkpoints" / "sd-vae-ft-mse"
    explicit = _touch(isolated / "mine.pt")
    assert weights.resolve(specs, {"unet": explicit})["unet"] == explicit


def test_version_marker_keeps_15_weights_from_serving_16(isolated):
    _touch(isolated / "checkpoints" / "latentsync_unet.pt")
    (isolated / "checkpoints" / weights.VERSION_MARKER).write_text("1.5\n")
    unet16 = weights.model_files("1.6")[:1]
    unet15 = weights.model_files("1.5")[:1]
    assert weights.resolve(unet15)["unet"].name == "latentsync_unet.pt"
    with pytest.raises(MissingWeightsError):
        weights.resolve(unet16)


def test_missing_message_names_every_file_and_its_flag(isolated):
    with pytest.raises(MissingWeightsError) as info:
        weights.resolve(weights.model_files("1.6"), {"whisper": isolated / "nope.pt"})
    text = str(info.value)
    assert "\n" not in text
    for piece in (
        "latentsync_unet.pt",
        "--unet-checkpoint",
        "nope.pt",
        "--whisper",
        "sd-vae-ft-mse",
        "--vae",
        "latentsync download --model 1.6",
    ):
        assert piece in text, piece
    assert len(info.value.missing) == 3


def test_cli_download_offline_exits_2_with_one_line(tmp_path):
    result = _cli(["download"], {"HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(tmp_path / "c")}, tmp_path)
    assert result.returncode == 2
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: cannot download while offline")
    assert "latentsync_unet.pt" in lines[0] and "Traceback" not in result.stderr


def test_cli_download_unreachable_hub_exits_2_quickly(tmp_path):
    # A port on 127.0.0.1 that nothing listens on stands for an unreachable hub.
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = _cli(
        ["download"],
        {"HF_ENDPOINT": f"http://127.0.0.1:{port}", "HF_HUB_CACHE": str(tmp_path / "c")},
        tmp_path,
    )
    assert result.returncode == 2
    assert "cannot reach" in result.stderr and "stable_syncnet.pt" in result.stderr
    assert "Traceback" not in result.stderr


def _published_files(version: str) -> dict[str, bytes]:
    files = {
        f"{weights.model_repo(version)}/{name}": f"{version}:{name}".encode() * 100
        for name in ("latentsync_unet.pt", "whisper/tiny.pt", "stable_syncnet.pt")
    }
    files.update({f"{weights.VAE_REPO}/{name}": name.encode() * 50 for name in weights.VAE_FILES})
    files.update({f"{s.repo_id}/{s.filename}": s.key.encode() * 30 for s in weights.face_model_files()})
    return files


def test_cli_download_from_stand_in_hub_into_dir_and_cache(tmp_path):
    files = _published_files("1.5")
    with fake_hub(files) as (endpoint, log):
        env = {"HF_ENDPOINT": endpoint, "HF_HUB_CACHE": str(tmp_path / "cache"), "HF_HUB_DISABLE_XET": "1"}
        result = _cli(["download", "--model", "1.5", "--dir", str(tmp_path / "ckpt")], env, tmp_path)
        assert result.returncode == 0, result.stderr
        ckpt = tmp_path / "ckpt"
        assert (ckpt / "latentsync_unet.pt").read_bytes() == files[
            "ByteDance/LatentSync-1.5/latentsync_unet.pt"
        ]
        assert (ckpt / "whisper" / "tiny.pt").read_bytes() == files[
            "ByteDance/LatentSync-1.5/whisper/tiny.pt"
        ]
        assert (ckpt / "sd-vae-ft-mse" / "config.json").is_file()
        # the face models inference aligns with come in the default set, in the original's layout
        assert (
            ckpt / "auxiliary" / "models" / "buffalo_l" / "det_10g.onnx"
        ).read_bytes() == b"insightface_det" * 30
        assert (ckpt / "auxiliary" / "models" / "buffalo_l" / "2d106det.onnx").is_file()
        assert (ckpt / weights.VERSION_MARKER).read_text().strip() == "1.5"
        assert any(r.startswith("GET /ByteDance/LatentSync-1.5/resolve/main/latentsync_unet.pt") for r in log)

        # Into the HF cache; the resolver then finds the files there with no network.
        result = _cli(["download", "--model", "1.5"], env, tmp_path)
        assert result.returncode == 0, result.stderr
    code = (
        "from latentsync import weights; r = weights.resolve(weights.model_files('1.5'), allow_download=False);"
        "print(r['unet'].read_bytes()[:20].decode()); print(sorted(p.name for p in r['vae'].iterdir()))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "LATENTSYNC_"))}
    env.update({"HF_HUB_CACHE": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1"})
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("1.5:latentsync_unet")
    assert "config.json" in out.stdout and "diffusion_pytorch_model.safetensors" in out.stdout


def test_resolver_downloads_missing_file_from_stand_in_hub(tmp_path):
    files = _published_files("1.6")
    with fake_hub(files) as (endpoint, _):
        code = (
            "from latentsync import weights; r = weights.resolve(weights.model_files('1.6'));"
            "print(r['whisper'].read_bytes()[:15].decode())"
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "LATENTSYNC_"))}
        env.update(
            {"HF_ENDPOINT": endpoint, "HF_HUB_CACHE": str(tmp_path / "cache"), "HF_HUB_DISABLE_XET": "1"}
        )
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("1.6:whisper/tin")
