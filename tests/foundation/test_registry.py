"""Face-detector backends and data stages are named the same way: an unknown name is one ConfigError
line listing the choices, and a known one is imported only when it is asked for."""

from __future__ import annotations

import subprocess
import sys

import pytest

from latentsync.data.engine import run_pipeline
from latentsync.data.stages import STAGE_NAMES, get_stage
from latentsync.errors import ConfigError
from latentsync.face.detector import create_detector


def test_unknown_detector_is_one_line_listing_the_backends():
    with pytest.raises(ConfigError) as caught:
        create_detector("dlib")
    assert str(caught.value) == "unknown face detector 'dlib': choose one of auto, mediapipe, insightface"


def test_unknown_stage_is_one_line_listing_the_stages(tmp_path):
    with pytest.raises(ConfigError, match=r"^unknown stage 'crop': choose one of broken, resample, shot"):
        get_stage("crop")
    with pytest.raises(ConfigError, match=r"^unknown stage 'crop', 'blur': choose one of broken,"):
        run_pipeline(tmp_path, skip=["shot", "crop", "blur"])


def test_each_stage_is_its_name_and_is_imported_only_when_asked_for():
    assert [get_stage(name).name for name in STAGE_NAMES] == list(STAGE_NAMES)
    probe = (
        "import sys; from latentsync.data.stages import get_stage; get_stage('shot'); "
        "print('latentsync.data.shot' in sys.modules, 'latentsync.data.quality' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "False"]
