"""The app's HTTP API without a browser: a service submits a job with ``gradio_client`` (README example)."""

from __future__ import annotations

from pathlib import Path

import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from tests.helpers import media


@pytest.fixture(scope="module")
def client(app_server, tmp_path_factory) -> Client:
    return Client(app_server[0], verbose=False, download_files=str(tmp_path_factory.mktemp("http_downloads")))


def test_a_job_over_http_returns_the_lip_synced_video(client, app_media):
    video, status = client.predict(
        video=handle_file(str(app_media / "clip.mp4")),
        audio=handle_file(str(app_media / "speech.wav")),
        steps=1,
        seed=7,
        api_name="/generate",
    )
    path = Path(video)  # the downloaded result
    frames, source = media.read_frames(path), media.read_frames(app_media / "clip.mp4")
    assert len(frames) == 50 and frames[0].shape == source[0].shape  # 2 s of speech at 25 fps
    assert status.startswith("Done: 50 frames")
    assert media.psnr(frames[25], source[25]) < 60  # lip-synced, not a copy of the input


def test_a_bad_request_over_http_is_the_one_sentence_the_page_shows(client, app_media):
    with pytest.raises(AppError, match="Upload the driving audio"):
        client.predict(video=handle_file(str(app_media / "clip.mp4")), api_name="/generate")
