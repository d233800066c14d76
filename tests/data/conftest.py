"""One small raw folder and one pipeline run (stages broken..affine), shared by the data tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from latentsync.data.engine import InlineExecutor, run_pipeline
from latentsync.data.stage import Settings
from tests.data.inputs import build_raw_folder

NO_MODEL_STAGES = ("sync", "quality")


@pytest.fixture(scope="session")
def raw_template(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    folder = tmp_path_factory.mktemp("raw_template") / "raw"
    expected = build_raw_folder(folder)
    return folder, expected


@pytest.fixture(scope="session")
def first_run(raw_template, tmp_path_factory):
    """The pipeline up to the aligned clips, run in-process."""
    template, expected = raw_template
    root = tmp_path_factory.mktemp("run1")
    raw = Path(shutil.copytree(template, root / "raw"))
    result = run_pipeline(raw, settings=Settings(), skip=NO_MODEL_STAGES, executor=InlineExecutor())
    return root, result, expected
