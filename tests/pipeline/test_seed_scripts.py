"""The original's inference entry points run through the same pipeline."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from latentsync.video.probe import probe_video

REPO = Path(__file__).resolve().parents[2]


def test_python_m_scripts_inference(tmp_path, tiny_models, media_dir_small):
    out = tmp_path / "video_out.mp4"
    cmd = [
        sys.executable,
        "-m",
        "scripts.inference",
        "--unet_config_path",
        str(tiny_models / "unet_tiny.yaml"),
        "--inference_ckpt_path",
        str(tiny_models / "unet_tiny.pt"),
        "--inference_steps",
        "1",
        "--guidance_scale",
        "1.5",
        "--enable_deepcache",
        "--video_path",
        str(media_dir_small / "clip.mp4"),
        "--audio_path",
        str(media_dir_small / "speech.wav"),
        "--video_out_path",
        str(out),
        "--seed",
        "5",
    ]
    env = dict(os.environ, LATENTSYNC_CHECKPOINTS=str(tmp_path / "ckpt"))
    (tmp_path / "ckpt" / "whisper").mkdir(parents=True)
    (tmp_path / "ckpt" / "whisper" / "tiny.pt").write_bytes((tiny_models / "whisper_tiny.pt").read_bytes())
    os.symlink(tiny_models / "vae", tmp_path / "ckpt" / "sd-vae-ft-mse")
    result = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert probe_video(out).num_frames == 40


def test_inference_sh_reports_missing_input_in_one_line(tmp_path):
    env = dict(
        os.environ,
        VIDEO=str(tmp_path / "missing.mp4"),
        AUDIO=str(tmp_path / "a.wav"),
        OUTPUT=str(tmp_path / "o.mp4"),
    )
    result = subprocess.run(
        [str(REPO / "inference.sh")], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error:") and "missing.mp4" in result.stderr
