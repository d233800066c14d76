"""A real ``latentsync app`` server (tiny models, 127.0.0.1, free port) and a headless Chromium."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import media
from tests.helpers.tiny_models import tiny_model_args

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MAX_UPLOAD_MB = 1  # the test clips are smaller; the "too large" upload is not


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def app_media(tmp_path_factory) -> Path:
    """clip.mp4 270x480 2 s of demo1; speech.wav 2 s; long_speech.wav 12 s; fake.mp4 (text); big.mp4 (1.5 MB)."""
    out = tmp_path_factory.mktemp("app_media")
    media.write_video(out / "clip.mp4", media.demo_frames(50, size=(270, 480)))
    media.write_audio(out / "speech.wav", media.demo_audio(2.0, start=2.0))
    media.write_audio(out / "long_speech.wav", media.demo_audio(12.0, start=0.0))
    (out / "fake.mp4").write_text("This is a text file, not a video.\n" * 20)
    (out / "big.mp4").write_bytes(os.urandom(int(1.5 * 1024 * 1024)))
    return out


@pytest.fixture(scope="session")
def app_server(tiny_models, tmp_path_factory):
    """(base url, temp dir, process) of a running app; stopped with Ctrl-C at the end."""
    port = free_port()
    temp_dir = tmp_path_factory.mktemp("app_temp")
    log_path = temp_dir.parent / "app_server.log"
    env = dict(os.environ, LATENTSYNC_APP_MIN_STEPS="1", GRADIO_ANALYTICS_ENABLED="False")
    args = [sys.executable, "-m", "latentsync", "app", "--port", str(port), "--temp-dir", str(temp_dir)]
    args += ["--max-upload-mb", str(MAX_UPLOAD_MB)]
    args += tiny_model_args(tiny_models)
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            args, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        if proc.poll() is not None:
            pytest.fail(f"app exited with {proc.returncode}:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"app did not start:\n{log_path.read_text()}")
        time.sleep(0.3)
    proc.log_path = log_path  # type: ignore[attr-defined]
    yield url, temp_dir, proc
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "app_server.log").write_text(log_path.read_text())


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (test.sh does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, app_server):
    """A fresh page on the app; records every request that leaves 127.0.0.1."""
    url = app_server[0]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.external_requests = []  # type: ignore[attr-defined]

    def note(request):
        if not request.url.startswith((url, "data:", "blob:")):
            pg.external_requests.append(request.url)  # type: ignore[attr-defined]

    pg.on("request", note)
    pg.goto(url)
    pg.wait_for_selector("#generate")
    yield pg
    context.close()
