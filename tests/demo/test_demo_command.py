"""``latentsync demo``: the bundled clip lip-synced on tiny weights, its comparison video, and the
one-line errors when the published weights are missing and cannot be fetched."""

from __future__ import annotations

import re
import shlex
import socket
from pathlib import Path

import numpy as np
import pytest

from latentsync import weights
from latentsync.assets import demo_audio, demo_video
from latentsync.cli import build_parser, main
from latentsync.video.probe import probe_video
from latentsync.video.reader import iter_frames
from tests.demo.cli import run_cli, single_error_line
from tests.helpers.fake_hub import fake_hub
from tests.helpers.golden import MEDIA
from tests.helpers.tiny_models import tiny_model_args

QUICK = ["--seconds", "1", "--steps", "1", "--quiet"]


def test_bundled_media_are_the_latentsync_demo_clips():
    assert demo_video().read_bytes() == (MEDIA / "demo1_video.mp4").read_bytes()
    assert demo_audio().read_bytes() == (MEDIA / "demo1_audio.wav").read_bytes()
    notice = (demo_video().parent / "NOTICE").read_text()
    assert "Apache License" in notice and "bytedance/LatentSync" in notice


def _halves(frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    half = frame.shape[1] // 2
    return frame[:, :half].astype(np.int16), frame[:, half:].astype(np.int16)


def _resized(frame: np.ndarray, like: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.resize(frame, (like.shape[1], like.shape[0]), interpolation=cv2.INTER_AREA).astype(np.int16)


@pytest.mark.slow
def test_demo_on_tiny_weights_writes_result_and_side_by_side(tiny_models, tmp_path):
    result = run_cli(["demo", *QUICK, *tiny_model_args(tiny_models)], tmp_path, {"HF_HUB_OFFLINE": "1"})
    assert result.returncode == 0, result.stderr

    out, compare = tmp_path / "demo_out.mp4", tmp_path / "demo_compare.mp4"
    source = probe_video(demo_video())
    info = probe_video(out)
    assert (info.width, info.height) == (source.width, source.height)
    assert info.num_frames == round(float(source.fps))  # one second of speech
    side = probe_video(compare)
    assert side.num_frames == info.num_frames and side.height == 720 and side.width % 4 == 0
    assert not list(tmp_path.glob(".demo_speech*")), "the speech excerpt is removed after success"

    # Left half = the source frame, right half = the result, wherever the tiny model changed pixels.
    for k, (pair, before, after) in enumerate(
        zip(iter_frames(compare), iter_frames(demo_video()), iter_frames(out))
    ):
        left, right = _halves(pair)
        before, after = _resized(before, left), _resized(after, right)
        changed = np.abs(after - before).max(axis=2) > 40
        assert changed.sum() > 200, f"frame {k}: the tiny model changed no face pixels"
        assert np.abs(left - before)[changed].mean() < np.abs(left - after)[changed].mean() / 3
        assert np.abs(right - after)[changed].mean() < np.abs(right - before)[changed].mean() / 3
        if k == 4:
            break

    lines = dict(line.split(":", 1) for line in result.stdout.splitlines() if ":" in line)
    assert Path(lines["lip-synced"].split()[0]) == out.resolve()
    assert Path(lines["side by side"].strip()) == compare.resolve()
    hint = shlex.split(lines["your own files"])
    assert hint[0] == "latentsync"
    parsed = build_parser().parse_args(hint[1:])
    assert parsed.command == "infer" and parsed.steps == 1 and parsed.device == "cpu"
    assert parsed.unet_checkpoint == str(tiny_models / "unet_tiny.pt")
    assert parsed.whisper == str(tiny_models / "whisper_tiny.pt")


def test_demo_offline_exits_2_naming_the_files_and_the_command(tmp_path):
    result = run_cli(["demo", "--seconds", "1"], tmp_path, {"HF_HUB_OFFLINE": "1"})
    assert result.returncode == 2
    line = single_error_line(result)
    assert line.startswith("error: the demo needs the LatentSync 1.6 weights")
    for piece in ("offline mode is on", "latentsync_unet.pt", "whisper/tiny.pt", "sd-vae-ft-mse"):
        assert piece in line, piece
    assert "`latentsync download --model 1.6`" in line
    assert list(tmp_path.iterdir()) == [], "nothing written"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_demo_with_unreachable_hub_exits_2(tmp_path):
    result = run_cli(
        ["demo", "--seconds", "1"], tmp_path, {"HF_ENDPOINT": f"http://127.0.0.1:{_closed_port()}"}
    )
    assert result.returncode == 2
    line = single_error_line(result)
    assert "cannot reach http://127.0.0.1" in line and "latentsync_unet.pt" in line
    assert "latentsync download --model 1.6" in line


def test_demo_with_hub_lacking_the_files_exits_2(tmp_path):
    with fake_hub({}) as (endpoint, log):
        result = run_cli(
            ["demo", "--seconds", "1"], tmp_path, {"HF_ENDPOINT": endpoint, "HF_HUB_DISABLE_XET": "1"}
        )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    # the hub answered, so the fetch notice comes first; then the one error line
    *_, line = result.stderr.strip().splitlines()
    assert line.startswith("error: the demo needs") and result.stderr.count("error:") == 1
    assert "download failed" in line and "whisper/tiny.pt" in line
    assert any("latentsync_unet.pt" in request for request in log)


@pytest.mark.slow
def test_demo_fetches_missing_weights_then_runs(tiny_models, tmp_path):
    """Whisper and the VAE come from a stand-in hub (as the published files would), the UNet from flags."""
    files = {
        f"{weights.model_repo('1.6')}/whisper/tiny.pt": (tiny_models / "whisper_tiny.pt").read_bytes(),
        **{
            f"{weights.VAE_REPO}/{name}": (tiny_models / "vae" / name).read_bytes()
            for name in weights.VAE_FILES
        },
    }
    unet = ["--unet-config", str(tiny_models / "unet_tiny.yaml")]
    unet += ["--unet-checkpoint", str(tiny_models / "unet_tiny.pt"), "--device", "cpu"]
    with fake_hub(files) as (endpoint, log):
        # TQDM_POSITION=-1: huggingface_hub draws its progress bars although stderr is not a terminal
        env = {"HF_ENDPOINT": endpoint, "HF_HUB_DISABLE_XET": "1", "TQDM_POSITION": "-1"}
        result = run_cli(
            ["demo", "--seconds", "1", "--steps", "1", *unet, "--output", "mine.mp4"], tmp_path, env
        )
    assert result.returncode == 0, result.stderr
    assert "first run: fetching the LatentSync 1.6 weights" in result.stderr
    assert re.search(r"tiny\.pt: +100%", result.stderr), "no download progress bar"
    assert "HTTP Request" not in result.stderr
    fetched = {
        r.split("/resolve/", 1)[1].split("/", 1)[1] for r in log if r.startswith("GET") and "/resolve/" in r
    }
    assert fetched == {"whisper/tiny.pt", *weights.VAE_FILES}
    cached = list((tmp_path / "hf-cache").rglob("tiny.pt"))
    assert cached and cached[0].read_bytes() == files[f"{weights.model_repo('1.6')}/whisper/tiny.pt"]
    assert probe_video(tmp_path / "mine.mp4").num_frames == 25
    assert (tmp_path / "demo_compare.mp4").is_file()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--seconds", "0"], "--seconds must be between 0 and 3600"),
        (["--output", "same.mp4", "--compare", "same.mp4"], "--compare must differ from --output"),
        (["--output", "missing/out.mp4", "--seconds", "1"], "output directory does not exist"),
        (["--compare", "missing/side.mp4"], "folder of --compare does not exist: missing"),
    ],
)
def test_demo_bad_arguments_exit_2_before_any_work(tmp_path, monkeypatch, capsys, tiny_models, argv, message):
    monkeypatch.chdir(tmp_path)
    assert main(["demo", *argv, *tiny_model_args(tiny_models)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and "\n" not in err
    assert list(tmp_path.iterdir()) == []


def test_demo_warns_before_running_the_published_model_on_a_cpu(caplog):
    from latentsync.commands.demo import warn_if_cpu
    from latentsync.pipeline.options import InferenceOptions

    published = InferenceOptions(video=demo_video(), audio=demo_audio(), output=Path("o.mp4"), device="cpu")
    warn_if_cpu(published)
    assert any(
        "minutes per frame" in r.getMessage() and "--seconds 1" in r.getMessage() for r in caplog.records
    )
    caplog.clear()
    warn_if_cpu(
        InferenceOptions(
            video=demo_video(),
            audio=demo_audio(),
            output=Path("o.mp4"),
            device="cpu",
            unet_checkpoint="tiny.pt",
        )
    )
    assert caplog.records == []
