"""Named enhancers (``--enhancer gfpgan|codeformer``) are found like every auxiliary file, ``--aux-dir``
first, and following the missing-file message's hint makes the same command work."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import torch

from latentsync import weights
from latentsync.errors import MissingWeightsError
from latentsync.face.enhancer import FaceEnhancer, enhancer_path
from tests.helpers import media
from tests.helpers.cli import run_cli
from tests.helpers.enhancer_models import needs_spandrel, write_codeformer, write_gfpgan, write_small_sr
from tests.helpers.fake_hub import fake_hub
from tests.helpers.tiny_models import tiny_infer_argv

OFFLINE = {"HF_HUB_OFFLINE": "1"}


def _one_frame_job(folder: Path, tiny_models: Path, output: Path) -> list[str]:
    """``infer`` on one demo frame with the tiny models: one face crop goes through the enhancer."""
    clip = media.write_video(folder / "clip.mp4", media.demo_frames(1))
    audio = media.write_audio(folder / "speech.wav", media.demo_audio(0.04))
    return tiny_infer_argv(tiny_models, clip, audio, output, "--min-face-frames", "1", "--steps", "1")


def _error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), stderr
    return lines[0]


def test_resolver_looks_in_the_aux_dir_for_named_enhancers(isolated):
    aux = isolated / "aux"
    (aux / "nested").mkdir(parents=True)
    gfpgan = aux / "GFPGANv1.4.pth"
    gfpgan.write_bytes(b"g" * 10)
    codeformer = aux / "codeformer-v0.1.0.pth"  # flat, though the hub keeps it under models/...
    codeformer.write_bytes(b"c" * 10)
    assert enhancer_path("gfpgan", aux_dir=aux) == gfpgan
    assert enhancer_path("codeformer", aux_dir=aux) == codeformer
    assert weights.resolve_aux(["enhancer_codeformer"], aux_dir=aux) == {"enhancer_codeformer": codeformer}
    with pytest.raises(MissingWeightsError) as info:
        enhancer_path("gfpgan", aux_dir=aux / "nested")
    message = str(info.value)
    assert f"not in --aux-dir {aux / 'nested'}" in message
    assert "--aux-dir DIR holding GFPGANv1.4.pth" in message
    assert "latentsync download --enhancer gfpgan" in message and "--auxiliary" not in message


@needs_spandrel
@pytest.mark.slow
def test_infer_finds_deterministic_gfpgan_and_codeformer_in_the_aux_dir(tmp_path, tiny_models):
    """Full-size checkpoints in the published layouts, found by name in ``--aux-dir``, loaded by spandrel."""
    aux = tmp_path / "aux"
    aux.mkdir()
    gfpgan = write_gfpgan(aux / "GFPGANv1.4.pth")
    out = tmp_path / "out.mp4"
    argv = [*_one_frame_job(tmp_path, tiny_models, out), "--enhancer", "gfpgan", "--aux-dir", str(aux)]
    env = {**OFFLINE, "HF_HUB_CACHE": str(tmp_path / "empty-cache")}
    result = run_cli(argv, env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "enhancer: GFPGANv1.4.pth (GFPGAN, x1)" in result.stderr
    assert len(media.read_frames(out)) == 1

    restorer = FaceEnhancer(gfpgan, dtype=torch.float16)
    assert restorer.dtype == torch.float32  # GFPGAN declares fp16 unsafe: it stays fp32
    gfpgan.unlink()
    codeformer = write_codeformer(aux / "codeformer-v0.1.0.pth")
    assert enhancer_path("codeformer", allow_download=False, aux_dir=aux) == codeformer
    restorer = FaceEnhancer(codeformer)
    assert restorer.descriptor.architecture.id == "CodeFormer" and restorer.scale == 1


@needs_spandrel
def test_following_the_missing_enhancer_hint_makes_infer_work(tmp_path, tiny_models):
    """Offline with no GFPGAN file: one line; its download command against a stand-in hub; then the
    same command runs. The hub serves a small spandrel checkpoint under GFPGAN's file name: what is
    tested is where the file comes from (the GFPGAN layout is the test above)."""
    spec = weights.enhancer_file("gfpgan")
    body = write_small_sr(tmp_path / "small_sr.pth").read_bytes()
    out = tmp_path / "out.mp4"
    argv = [*_one_frame_job(tmp_path, tiny_models, out), "--enhancer", "gfpgan"]
    cache = {"HF_HUB_CACHE": str(tmp_path / "hf-cache")}

    first = run_cli(argv, {**OFFLINE, **cache}, tmp_path)
    assert first.returncode == 2, first.stderr
    hint = re.search(r"`(latentsync download [^`]+)` while online", _error_line(first.stderr))
    assert hint is not None, first.stderr
    assert not out.exists()

    with fake_hub({f"{spec.repo_id}/{spec.filename}": body}) as (endpoint, requests):
        online = {**cache, "HF_ENDPOINT": endpoint, "HF_HUB_DISABLE_XET": "1"}
        fixed = run_cli(shlex.split(hint.group(1))[1:], online, tmp_path)
    assert fixed.returncode == 0, fixed.stderr
    assert any(f"/{spec.repo_id}/resolve/" in r for r in requests)

    again = run_cli(argv, {**OFFLINE, **cache}, tmp_path)
    assert again.returncode == 0, again.stderr
    assert "enhancer: GFPGANv1.4.pth (RealESRGAN Compact, x2)" in again.stderr
    assert len(media.read_frames(out)) == 1
