"""A missing auxiliary file's message names a command; running it (against a stand-in hub) fixes the run."""

from __future__ import annotations

import re
import shlex

from latentsync import weights
from tests.helpers.aux_models import write_aux_models
from tests.helpers.cli import run_cli as _cli
from tests.helpers.fake_hub import fake_hub


def test_eval_sync_works_after_following_the_missing_file_hint(tmp_path, short_clip):
    cache = {"HF_HUB_CACHE": str(tmp_path / "hf-cache"), "HF_HOME": str(tmp_path / "hf-home")}
    offline = {**cache, "HF_HUB_OFFLINE": "1"}
    sync = ["eval", "sync", "--video", str(short_clip), "--face-conf", "0.5", "--min-track", "10"]

    first = _cli(sync, offline, tmp_path)
    assert first.returncode == 2, first.stderr
    error = [line for line in first.stderr.splitlines() if line.startswith("error: ")]
    assert len(error) == 1 and "syncnet_v2.model" in error[0] and "sfd_face.pth" in error[0]
    hint = re.search(r"`(latentsync download [^`]+)`", error[0])
    assert hint, error[0]
    command = shlex.split(hint.group(1))
    assert command[:2] == ["latentsync", "download"]

    made = write_aux_models(tmp_path / "made", include=["syncnet_v2", "s3fd"])
    served = {
        f"{spec.repo_id}/{spec.filename}": made[name].read_bytes()
        for name, spec in (
            ("syncnet_v2", weights.auxiliary_file("syncnet_v2")),
            ("s3fd", weights.auxiliary_file("sfd_face")),
        )
    }
    with fake_hub(served) as (endpoint, log):
        fetched = _cli(command[1:], {**cache, "HF_ENDPOINT": endpoint, "HF_HUB_DISABLE_XET": "1"}, tmp_path)
    assert fetched.returncode == 0, fetched.stderr
    assert any("syncnet_v2.model" in line for line in log) and any("sfd_face.pth" in line for line in log)
    # only the files asked for: no model download rides along with the hint
    assert not any("latentsync_unet" in line for line in log)

    second = _cli(sync, offline, tmp_path)
    assert second.returncode == 0, second.stderr
    assert re.search(r"LSE-C\S*\s+-?\d", second.stdout + second.stderr), second.stdout
