"""The app's "Estimate memory" button: the CLI's ``infer --estimate`` report for the page's settings."""

from __future__ import annotations

import dataclasses
import re

import pytest

from latentsync import cli
from latentsync.app import form
from latentsync.app.settings import AppSettings
from latentsync.app.ui import Handlers
from tests.app.form_values import values as form_values
from tests.helpers.tiny_models import tiny_model_args

PEAK = re.compile(r"peak ~(\d+\.\d) GB")


def _page_estimate(tiny_models, **memory) -> str:
    """What the button shows: the custom (tiny) model, no uploads yet, the server's memory switches."""
    settings = AppSettings(
        unet_config=str(tiny_models / "unet_tiny.yaml"),
        vae=str(tiny_models / "vae"),
        whisper=str(tiny_models / "whisper_tiny.pt"),
        device="cpu",
        **memory,
    )
    values = form_values(
        video=None,
        audio=None,
        fps_choice=form.FPS_MODEL,
        model_choice=form.CUSTOM_MODEL,
        checkpoint_path=str(tiny_models / "unet_tiny.pt"),
    )
    return Handlers(settings, jobs=None).estimate_memory(*dataclasses.astuple(values))


def _cli_estimate(tiny_models, capsys, flags: list[str]) -> str:
    assert cli.main(["infer", "--estimate", *flags, *tiny_model_args(tiny_models)]) == 0
    return capsys.readouterr().out


def _peak(text: str) -> str:
    found = PEAK.findall(text)
    assert len(found) == 1, text
    return found[0]


@pytest.mark.parametrize(
    "memory, flags",
    [({}, []), (dict(low_vram=True), ["--low-vram"]), (dict(vae_slicing=True), ["--vae-slicing"])],
)
def test_page_estimate_is_the_cli_estimate(tiny_models, capsys, memory, flags):
    page = _page_estimate(tiny_models, **memory)
    cli_text = _cli_estimate(tiny_models, capsys, flags)
    assert page.startswith("```text\n") and page.rstrip().endswith("```")
    assert page.removeprefix("```text\n").removesuffix("\n```") == cli_text.rstrip("\n")


def test_page_estimate_follows_the_memory_switches(tiny_models):
    plain = float(_peak(_page_estimate(tiny_models)))
    low_vram = float(_peak(_page_estimate(tiny_models, low_vram=True)))
    sliced = float(_peak(_page_estimate(tiny_models, vae_slicing=True)))
    assert low_vram < sliced < plain
    assert "offload model, VAE slicing on" in _page_estimate(tiny_models, low_vram=True)


def test_page_estimate_reports_a_bad_form_in_one_sentence(tiny_models):
    settings = AppSettings(device="cpu")
    values = form.FormValues(
        None, None, 20, 1.5, 1247, False, form.FACE_LARGEST, 0, form.FPS_MODEL, 18, form.CUSTOM_MODEL, ""
    )
    text = Handlers(settings, jobs=None).estimate_memory(*dataclasses.astuple(values))
    assert text == "Enter the path of a checkpoint file on the server for the custom model."
