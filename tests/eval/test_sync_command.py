"""``latentsync eval sync`` end to end on a short clip with deterministic weights, and its report."""

from __future__ import annotations

import json
import math
from html.parser import HTMLParser

import cv2
import numpy as np
import pytest

from latentsync.cli import main
from latentsync.errors import InputError
from latentsync.eval.lse import evaluate_video_sync


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.images: list[str] = []
        self.cells: list[str] = []
        self._in_cell = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self._in_cell = tag in ("td", "th")
        if tag == "img":
            self.images.append(dict(attrs)["src"])

    def handle_endtag(self, tag):
        self._in_cell = False

    def handle_data(self, data):
        if self._in_cell:
            self.cells.append(data)


@pytest.fixture(scope="module")
def sync_run(tmp_path_factory, eval_aux, short_clip):
    report = tmp_path_factory.mktemp("report") / "run"
    argv = [
        "eval",
        "sync",
        "--video",
        str(short_clip),
        "--aux-dir",
        str(eval_aux),
        "--report-dir",
        str(report),
    ]
    # detweights S3FD scores faces ~0.54, and the clip is 20 frames: relax the two limits
    code = main(argv + ["--face-conf", "0.5", "--min-track", "10"])
    return code, report


def test_sync_command_gives_finite_numbers(sync_run, short_clip):
    code, report = sync_run
    assert code == 0
    data = json.loads((report / "report.json").read_text())
    assert data["metric"] == "sync" and data["failed"] == []
    (video,) = data["videos"]
    assert video["video"] == str(short_clip) and video["frames"] == 20
    assert video["tracks"], "no face track"
    for track in video["tracks"]:
        assert len(track["curve"]) == 31 and all(math.isfinite(v) and v >= 0 for v in track["curve"])
        assert -15 <= track["offset"] <= 15
        assert track["min_dist"] == pytest.approx(min(track["curve"]))
        assert track["confidence"] == pytest.approx(sorted(track["curve"])[15] - min(track["curve"]))
        assert track["last_frame"] - track["first_frame"] + 1 > 10
    assert video["confidence"] == pytest.approx(
        sum(t["confidence"] for t in video["tracks"]) / len(video["tracks"])
    )
    assert video["min_dist"] == pytest.approx(
        sum(t["min_dist"] for t in video["tracks"]) / len(video["tracks"])
    )
    assert data["summary"]["mean_lse_c"] == pytest.approx(video["confidence"])
    assert math.isfinite(data["summary"]["mean_lse_d"]) and data["summary"]["mean_lse_d"] > 0


def test_sync_report_html_and_plots_open(sync_run):
    _, report = sync_run
    parser = _Collector()
    parser.feed((report / "index.html").read_text())
    assert "table" in parser.tags and "LSE-C" in parser.cells
    data = json.loads((report / "report.json").read_text())
    assert len(parser.images) == len(data["videos"][0]["tracks"])
    for name in parser.images:
        image = cv2.imread(str(report / name))
        assert image is not None and image.shape[0] > 100 and image.shape[1] > 100 and image.std() > 0


def test_no_face_track_is_an_input_error(short_clip):
    no_faces = lambda frame: np.empty((0, 5))  # noqa: E731
    with pytest.raises(
        InputError, match=r"no face track of more than 10 frames .*\(0 of 20 frames have a face\)"
    ):
        evaluate_video_sync(short_clip, syncnet=None, face_boxes=no_faces, min_track=10)


def test_missing_weights_exit_2_naming_file_and_download(isolated_weights, short_clip, capsys):
    empty = isolated_weights / "no-weights"
    empty.mkdir()
    code = main(["eval", "sync", "--video", str(short_clip), "--aux-dir", str(empty)])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("error: ")
    assert "syncnet_v2.model" in err and "sfd_face.pth" in err
    assert "latentsync download --auxiliary" in err
