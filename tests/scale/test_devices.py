"""``--device cuda:N`` / ``mps`` parse everywhere; a device this machine lacks is one line, exit 2."""

from __future__ import annotations

import pytest
import torch

from latentsync.cli import main
from latentsync.device import local_devices, pick_device
from latentsync.errors import ConfigError

NO_CUDA = not torch.cuda.is_available()
NO_MPS = not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())


def test_pick_device_parses_indexed_cuda_and_rejects_nonsense():
    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device("CPU") == torch.device("cpu")
    for bad in ("cuda:x", "cpu:1", "gpu", "cuda:-1", "mps:0"):
        with pytest.raises(ConfigError, match="unknown device"):
            pick_device(bad)


@pytest.mark.skipif(not NO_CUDA, reason="checks the message on a machine without CUDA")
def test_absent_cuda_index_is_a_config_error():
    with pytest.raises(ConfigError, match=r"--device cuda:1 .*no CUDA device"):
        pick_device("cuda:1")
    with pytest.raises(ConfigError, match="cuda:1"):
        local_devices("cpu,cuda:1")


def test_local_devices_spreads_workers():
    assert local_devices("cpu", 3) == ["cpu", "cpu", "cpu"]
    assert local_devices("cpu,cpu") == ["cpu", "cpu"]
    if NO_CUDA and NO_MPS:
        assert local_devices("auto", 2) == ["cpu", "cpu"]


@pytest.mark.skipif(not NO_CUDA, reason="needs a machine without CUDA")
@pytest.mark.parametrize(
    "argv",
    [
        ["infer", "--video", "v.mp4", "--audio", "a.wav", "--output", "o.mp4", "--device", "cuda:1"],
        ["batch", "jobs.csv", "--device", "cuda:0"],
        ["eval", "iqa", "--video", "v.mp4", "--device", "cuda:2"],
        ["app", "--device", "cuda:1"],
    ],
    ids=["infer", "batch", "eval", "app"],
)
def test_every_command_reports_a_missing_gpu_in_one_line(argv, capsys):
    code = main(argv)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("error: --device cuda:"), err
    assert "Traceback" not in err


@pytest.mark.skipif(not NO_MPS, reason="needs a machine without MPS")
def test_missing_mps_is_one_line(capsys):
    code = main(["infer", "--video", "v.mp4", "--audio", "a.wav", "--output", "o.mp4", "--device", "mps"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err == "error: --device mps asked for, but MPS is not available here"
