"""FVD with a tiny TorchScript stand-in for I3D (the real weights cannot be downloaded here)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from latentsync.cli import main
from latentsync.eval.fvd import frechet_distance, i3d_features, load_i3d
from tests.eval.clips import demo_clip


class TinyI3D(torch.nn.Module):
    """Same call signature as i3d_torchscript.pt: [B, 3, T, H, W] in [0, 1] -> features."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv3d(3, 4, (3, 8, 8), stride=(2, 8, 8))

    def forward(
        self, x: torch.Tensor, rescale: bool = False, resize: bool = False, return_features: bool = False
    ) -> torch.Tensor:
        return torch.tanh(self.conv(x)).mean(dim=(2, 3, 4))


@pytest.fixture(scope="module")
def i3d_path(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("i3d") / "i3d_torchscript.pt"
    torch.jit.script(TinyI3D()).save(str(path))
    return path


def test_frechet_distance_known_values():
    rng = np.random.default_rng(0)
    feats = rng.normal(size=(200, 5))
    assert abs(frechet_distance(feats, feats.copy())) < 1e-9
    shift = np.array([1.0, -2.0, 0.5, 0.0, 3.0])
    assert frechet_distance(feats, feats + shift) == pytest.approx(float(np.square(shift).sum()), rel=1e-9)
    scaled = frechet_distance(feats, 2 * feats)  # same mean-ish, covariance x4: Tr(S + 4S - 2*2S) = Tr(S)
    expected = float(np.square(feats.mean(0)).sum() + np.trace(np.cov(feats, rowvar=False)))
    assert scaled == pytest.approx(expected, rel=1e-6)


def test_scripted_model_loads_and_gives_features(i3d_path):
    model = load_i3d(i3d_path)
    clips = torch.rand(3, 16, 224, 224, 3, generator=torch.Generator().manual_seed(1))
    feats = i3d_features(model, clips, batch_size=2)
    assert feats.shape == (3, 4) and feats.dtype == np.float64
    np.testing.assert_allclose(feats[2], i3d_features(model, clips[2:])[0], rtol=1e-6)


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("fvd")
    real, same, other = root / "real", root / "same", root / "other"
    for start, name in ((0, "a"), (40, "b"), (80, "c")):
        clip = demo_clip(real / f"{name}.mp4", start=start, count=36)
        (same / f"{name}.mp4").parent.mkdir(exist_ok=True)
        (same / f"{name}.mp4").write_bytes(clip.read_bytes())
        demo_clip(other / f"{name}.mp4", "demo2", start=start, count=36, flip=True)
    return real, same, other


def _fvd_report(real: Path, fake: Path, i3d: Path, report_dir: Path) -> dict:
    """``latentsync eval fvd`` between two folders; its report.json."""
    argv = ["eval", "fvd", "--real", str(real), "--fake", str(fake), "--i3d", str(i3d)]
    assert main([*argv, "--report-dir", str(report_dir)]) == 0
    return json.loads((report_dir / "report.json").read_text())


def test_fvd_command_zero_for_same_set_positive_otherwise(i3d_path, folders, tmp_path):
    real, same, other = folders
    assert abs(_fvd_report(real, same, i3d_path, tmp_path / "same")["fvd"]) < 1e-6
    data = _fvd_report(real, other, i3d_path, tmp_path / "other")
    assert data["fvd"] > 1e-4 and len(data["fake_videos"]) == 3


def test_missing_i3d_names_file_and_download(isolated_weights, capsys):
    assert main(["eval", "fvd", "--real", ".", "--fake", "."]) == 2
    err = capsys.readouterr().err.strip()
    assert "i3d_torchscript.pt" in err and "latentsync download --auxiliary" in err and "\n" not in err
