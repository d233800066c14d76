"""The web app in a real headless Chromium: generate with progress, cancel, friendly errors."""

from __future__ import annotations

import io
import os
import re
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path

import av
import psutil
import pytest
from PIL import Image

from tests.app.conftest import ARTIFACTS, REPO

pytestmark = pytest.mark.browser

PROGRESS = re.compile(r"Lip-syncing: (\d+) / (\d+) frames")
DOCS_SCREENSHOT = REPO / "docs" / "app.png"
# Rewriting the committed picture on every run would dirty the checkout; ask for it explicitly.
UPDATE_SCREENSHOT = os.environ.get("LATENTSYNC_UPDATE_SCREENSHOT") == "1"


def fill_form(page, video: Path, audio: Path, steps: int) -> None:
    page.locator("#input-video input[type=file]").set_input_files(str(video))
    page.locator("#input-audio input[type=file]").set_input_files(str(audio))
    steps_box = page.locator("#steps input[type=number]")
    steps_box.fill(str(steps))
    steps_box.press("Enter")
    page.wait_for_selector("#input-video video")  # the upload finished


def clear(page, element_id: str) -> None:
    page.locator(f"#{element_id} button[aria-label='Clear']").click()
    page.locator(f"#{element_id} input[type=file]").wait_for(state="attached")


def status(page) -> str:
    return page.locator("#status").inner_text().strip()


def wait_for_status(page, pattern: str, timeout: float, observed: list[str] | None = None) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = status(page)
        if observed is not None and (not observed or observed[-1] != text):
            observed.append(text)
        if re.search(pattern, text):
            return text
        time.sleep(0.1)
    raise AssertionError(f"status never matched {pattern!r}; last: {status(page)!r}; seen: {observed}")


def save_screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def save_docs_screenshot(page, folder: Path) -> Path:
    """The docs picture, as a palette PNG so it stays well under 300 KB, written into ``folder``.

    It replaces docs/app.png only when LATENTSYNC_UPDATE_SCREENSHOT=1.
    """
    image = Image.open(io.BytesIO(page.screenshot(full_page=True))).convert("RGB")
    image = image.resize((image.width * 3 // 4, image.height * 3 // 4), Image.Resampling.LANCZOS)
    image = image.quantize(colors=64, method=Image.Quantize.MEDIANCUT)
    path = folder / "app.png"
    image.save(path, optimize=True)
    if UPDATE_SCREENSHOT:
        shutil.copyfile(path, DOCS_SCREENSHOT)
    return path


def assert_real_screenshot(path: Path) -> None:
    """A PNG of a rendered page: right signature, page-sized, more than one colour, under 300 KB."""
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert 10 * 1024 < path.stat().st_size < 300 * 1024
    with Image.open(path) as image:
        image.load()
        assert image.format == "PNG"
        assert image.width >= 400 and image.height >= 300, image.size
        colours = image.convert("RGB").getcolors(maxcolors=1024)
    assert colours is not None and len(colours) >= 8, "the screenshot is (nearly) one flat colour"


def test_server_listens_only_on_localhost_and_serves_no_outside_files(app_server):
    url, temp_dir, proc = app_server
    listening = [c.laddr for c in psutil.Process(proc.pid).net_connections("inet") if c.status == "LISTEN"]
    assert listening and all(addr.ip == "127.0.0.1" for addr in listening), listening
    for outside in ("/etc/passwd", str(REPO / "pyproject.toml")):
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"{url}/gradio_api/file={outside}", timeout=10)
        assert err.value.code in (403, 404)


def test_generate_shows_progress_and_a_playable_result(page, app_media, app_server, tmp_path):
    fill_form(page, app_media / "clip.mp4", app_media / "speech.wav", steps=1)
    page.click("#generate")
    observed: list[str] = []
    final = wait_for_status(page, r"^Done", timeout=120, observed=observed)
    assert final.startswith("Done: 50 frames") and "face found in 50" in final

    counts = [tuple(map(int, m.groups())) for m in map(PROGRESS.search, observed) if m]
    assert counts, f"no frame progress was shown: {observed}"
    done = [d for d, _ in counts]
    assert {t for _, t in counts} == {50}
    assert done == sorted(done) and len(set(done)) >= 2 and min(done) < 50, done
    assert any("left" in text for text in observed), observed  # an ETA was shown

    video = page.locator("#result-video video")
    video.wait_for()
    page.wait_for_function("document.querySelector('#result-video video').readyState >= 1", timeout=30000)
    duration, width, height = video.evaluate("v => [v.duration, v.videoWidth, v.videoHeight]")
    assert abs(duration - 2.0) < 0.1 and (width, height) == (270, 480)
    video.evaluate("v => v.play()")
    page.wait_for_function("document.querySelector('#result-video video').currentTime > 0.2", timeout=15000)

    served = urllib.request.urlopen(video.get_attribute("src"), timeout=30).read()
    result = tmp_path / "served.mp4"
    result.write_bytes(served)
    with av.open(str(result)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (270, 480)
        assert sum(1 for _ in container.decode(video=0)) == 50
        assert container.streams.audio, "the result has no sound"
        assert abs(float(container.duration / av.time_base) - 2.0) < 0.1
    assert page.external_requests == []
    save_screenshot(page, "app_result.png")
    assert_real_screenshot(save_docs_screenshot(page, tmp_path))


def test_cancel_stops_the_job_and_the_page_stays_usable(page, app_media, app_server):
    temp_dir = app_server[1]
    fill_form(page, app_media / "clip.mp4", app_media / "long_speech.wav", steps=2)
    page.click("#generate")
    text = wait_for_status(page, r"Lip-syncing: [1-9]\d* / \d+ frames", timeout=90)
    done_before, total_before = map(int, PROGRESS.search(text).groups())
    assert total_before == 240  # demo1_audio.wav is 9.6 s: 240 frames at 25 fps
    save_screenshot(page, "app_running.png")
    job_dirs = [d for d in (temp_dir / "jobs").glob("*/*") if (d / "video.mp4").exists()]
    assert job_dirs, "the running job has no directory"

    page.click("#cancel")
    stopped = wait_for_status(page, r"^Cancelled after", timeout=60)
    done_at_cancel, total = map(int, re.search(r"after (\d+) of (\d+)", stopped).groups())
    assert total == total_before and done_before <= done_at_cancel < total
    assert not any(d.exists() for d in job_dirs), "the cancelled job's files are still there"
    page.wait_for_function("!document.querySelector('#result-video .progress-text')", timeout=10000)
    save_screenshot(page, "app_cancelled.png")

    # The device is free again: a short job runs to the end (on a fresh page, as a user would).
    page.reload()
    fill_form(page, app_media / "clip.mp4", app_media / "speech.wav", steps=2)
    page.click("#generate")
    assert wait_for_status(page, r"^Done", timeout=120).startswith("Done: 50 frames")


def test_unreadable_and_oversized_uploads_give_one_friendly_sentence(page, app_media, app_server):
    fill_form_no_preview(page, app_media / "fake.mp4", app_media / "speech.wav")
    page.click("#generate")
    text = wait_for_status(page, r"^(Could not|Done|Cancelled)", timeout=60)
    assert text.startswith("Could not use the video “fake.mp4”:"), text
    toast = page.get_by_text("Could not use the video", exact=False).last
    toast.wait_for()
    content = page.content()
    assert "Traceback" not in content and 'File "' not in content
    assert "/tmp/" not in text, text
    save_screenshot(page, "app_unreadable.png")

    clear(page, "input-video")
    page.locator("#input-video input[type=file]").set_input_files(str(app_media / "big.mp4"))
    page.get_by_text("exceed the maximum allowed size of 1.0 Mb").wait_for(timeout=20000)
    save_screenshot(page, "app_too_large.png")
    assert "Traceback" not in page.content()


def fill_form_no_preview(page, video: Path, audio: Path) -> None:
    """Like fill_form for a video the browser cannot preview."""
    page.locator("#input-video input[type=file]").set_input_files(str(video))
    page.locator("#input-audio input[type=file]").set_input_files(str(audio))
    page.wait_for_timeout(1500)
