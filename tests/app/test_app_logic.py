"""The app's pieces without a browser: form checks, friendly messages, job lifecycle and model reuse."""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

import pytest

from latentsync.app import form
from latentsync.app.errors import INTERNAL, NO_FACE, friendly_message
from latentsync.app.jobs import CANCELLED, DONE, FAILED, JobManager
from latentsync.app.settings import MIN_STEPS_ENV, AppSettings, parse_auth
from latentsync.errors import ConfigError, InputError, MissingWeightsError
from latentsync.pipeline.runner import InferenceSummary
from latentsync.pipeline.threads import Cancelled
from tests.app.form_values import values


def test_form_maps_every_choice_to_options(tmp_path):
    ckpt = tmp_path / "unet.pt"
    ckpt.write_bytes(b"x")
    settings = AppSettings(unet_config="stage2_512", vae="vae_dir", whisper="w.pt", device="cpu")
    opts = form.options_from_form(
        values(
            steps=12,
            guidance_scale=2.5,
            seed=7,
            deepcache=True,
            face_choice=form.FACE_BY_INDEX,
            face_index=2,
            fps_choice=form.FPS_25,
            crf=23,
            model_choice=form.CUSTOM_MODEL,
            checkpoint_path=str(ckpt),
        ),
        settings,
        tmp_path / "out.mp4",
    )
    assert (opts.steps, opts.guidance_scale, opts.seed, opts.deepcache) == (12, 2.5, 7, True)
    assert (opts.face_index, opts.fps, opts.crf) == (2, 25.0, 23)
    assert (opts.unet_checkpoint, opts.unet_config) == (str(ckpt.resolve()), "stage2_512")
    assert (opts.vae, opts.whisper, opts.device, opts.resume) == ("vae_dir", "w.pt", "cpu", False)

    published = form.options_from_form(values(model_choice="LatentSync 1.5"), settings, tmp_path / "o.mp4")
    assert (published.model, published.unet_checkpoint, published.unet_config_name) == ("1.5", None, "stage2")
    assert (published.face_index, published.fps) == (None, None)


def test_page_defaults_are_the_cli_defaults(tmp_path):
    from latentsync.cli import build_parser

    args = build_parser().parse_args(["infer", "--video", "v.mp4", "--audio", "a.wav", "--output", "o.mp4"])
    from latentsync.commands.infer import options_from_args

    cli = options_from_args(args)
    page = form.options_from_form(values(fps_choice=form.FPS_MODEL), AppSettings(), tmp_path / "o.mp4")
    for name in ("face_detector", "blend", "enhancer", "enhancer_strength", "fps", "model_fps"):
        assert getattr(page, name) == getattr(cli, name), name


def test_detector_blend_and_enhancer_controls_reach_the_options(tmp_path):
    other_detector = next(d for d in form.DETECTOR_CHOICES if d != form.DEFAULT_DETECTOR)
    opts = form.options_from_form(
        values(face_detector=other_detector, blend="face", enhancer="codeformer", enhancer_strength=0.4),
        AppSettings(),
        tmp_path / "o.mp4",
    )
    assert (opts.face_detector, opts.blend, opts.enhancer, opts.enhancer_strength) == (
        other_detector,
        "face",
        "codeformer",
        0.4,
    )
    assert (opts.fps, opts.model_fps) == (None, None)  # FPS_SOURCE: the model at the source rate
    with pytest.raises(InputError, match="Enhancer strength"):
        form.options_from_form(values(enhancer_strength=1.5), AppSettings(), tmp_path / "o.mp4")


@pytest.mark.parametrize(
    "change, words",
    [
        (dict(video=None), "Upload a video"),
        (dict(audio=None), "driving audio"),
        (dict(steps=5), "Inference steps must be between 10 and 50"),
        (dict(steps=51), "Inference steps"),
        (dict(guidance_scale=3.5), "Guidance scale"),
        (dict(crf=60), "CRF"),
        (dict(face_choice=form.FACE_BY_INDEX, face_index=-1), "face index"),
        (dict(model_choice=form.CUSTOM_MODEL, checkpoint_path=""), "Enter the path"),
        (dict(model_choice=form.CUSTOM_MODEL, checkpoint_path="/no/such/unet.pt"), "no checkpoint file"),
        (dict(model_choice=form.CUSTOM_MODEL, checkpoint_path="/etc/passwd"), "must be a .pt"),
    ],
)
def test_form_rejects_bad_values_in_one_sentence(change, words, tmp_path):
    with pytest.raises(InputError, match=words):
        form.options_from_form(values(**change), AppSettings(), tmp_path / "o.mp4")


def test_min_steps_env_lowers_the_slider_minimum_only_when_valid(monkeypatch, tmp_path):
    monkeypatch.setenv(MIN_STEPS_ENV, "1")
    assert AppSettings().min_steps == 1
    assert form.options_from_form(values(steps=1), AppSettings(), tmp_path / "o.mp4").steps == 1
    monkeypatch.setenv(MIN_STEPS_ENV, "0")
    with pytest.raises(ConfigError):
        AppSettings().min_steps  # noqa: B018
    monkeypatch.delenv(MIN_STEPS_ENV)
    assert AppSettings().min_steps == 10


def test_auth_parsing():
    assert parse_auth("ann:se:cret") == ("ann", "se:cret")
    assert parse_auth(None) is None
    with pytest.raises(ConfigError):
        parse_auth("nopassword")


def test_friendly_messages_name_the_upload_and_the_download_command():
    path = Path("/tmp/app/jobs/s/j/video.mp4")
    exc = InputError(
        f"video file is not a readable media file (bad): {path} ([Errno 1] Invalid data: '{path}')"
    )
    text = friendly_message(exc, {path: "video “clip.mp4”"})
    assert text == "Could not use the video “clip.mp4”: video file is not a readable media file (bad)."
    missing = MissingWeightsError(
        [("LatentSync 1.6 UNet", "--unet-checkpoint PATH, or `latentsync download --model 1.6` while online")]
    )
    text = friendly_message(missing)
    assert "`latentsync download --model 1.6`" in text and "LatentSync 1.6 UNet" in text
    assert friendly_message(Cancelled()) == "Cancelled."
    assert friendly_message(RuntimeError("boom at 0x7f")) == INTERNAL


def make_inputs(tmp_path: Path) -> tuple[Path, Path]:
    """Two uploads in a fresh folder (gradio gives each upload its own)."""
    uploads = Path(tempfile.mkdtemp(dir=tmp_path))
    video, audio = uploads / "clip.mp4", uploads / "speech.wav"
    video.write_bytes(b"v")
    audio.write_bytes(b"a")
    return video, audio


class FakePipeline:
    """Stands in for LipSync: counts loads and closes, steps frames until cancelled."""

    def __init__(self, frames: int = 40, faces: int = 40, step_seconds: float = 0.0):
        self.loads = self.closes = 0
        self.frames, self.faces, self.step_seconds = frames, faces, step_seconds
        self.started = threading.Event()
        self.model_key = None

    def load(self, options):
        """``LipSync.for_options``: the loaded object answers ``model_key``, ``run`` and ``close``."""
        self.loads += 1
        self.model_key = options.model_key()
        return self

    def close(self):
        self.closes += 1

    def run(self, options, progress, cancel):
        self.started.set()
        for i in range(self.frames):
            if cancel.is_set():
                raise Cancelled()
            time.sleep(self.step_seconds)
            progress(i + 1, self.frames)
        options.output.write_bytes(b"mp4")
        return InferenceSummary(self.frames, self.faces, 0.1, options.output)


@pytest.fixture
def no_probe(monkeypatch):
    monkeypatch.setattr("latentsync.app.jobs.check_inputs", lambda options: None)


def start_job(jobs: JobManager, session: str, tmp_path: Path, **kw):
    video, audio = make_inputs(tmp_path)
    job_dir = jobs.new_job_dir(session)
    opts = form.options_from_form(
        values(video=str(video), audio=str(audio), **kw), AppSettings(), job_dir / "o.mp4"
    )
    return jobs.start(session, job_dir, opts)


def test_jobs_reuse_models_report_progress_and_keep_results(tmp_path, no_probe):
    fake = FakePipeline()
    jobs = JobManager(tmp_path / "root", load=fake.load)
    first = start_job(jobs, "s1", tmp_path)
    assert first.finished.wait(10) and first.state == DONE
    assert (first.done_frames, first.total_frames) == (40, 40) and first.output.read_bytes() == b"mp4"
    assert first.options.video.parent == first.dir and first.options.video.read_bytes() == b"v"
    assert first.status_text().startswith("Done: 40 frames")
    second = start_job(jobs, "s2", tmp_path)
    assert second.finished.wait(10) and second.state == DONE
    assert fake.loads == 1  # same model flags: loaded once
    third = start_job(jobs, "s3", tmp_path, steps=30, model_choice="LatentSync 1.5")
    assert third.finished.wait(10) and fake.loads == 2  # other model: reloaded
    assert fake.closes == 1  # the first model set was freed before the second was loaded

    jobs.keep_seconds = 0
    time.sleep(0.05)
    jobs.sweep()
    assert not first.dir.exists() and not second.dir.exists()


def test_cancel_stops_the_job_and_removes_its_files(tmp_path, no_probe):
    fake = FakePipeline(frames=1000, step_seconds=0.01)
    jobs = JobManager(tmp_path / "root", load=fake.load)
    job = start_job(jobs, "s", tmp_path)
    assert fake.started.wait(10)
    while job.done_frames < 5:
        time.sleep(0.01)
    stopped = jobs.cancel("s")
    assert stopped is job and job.state == CANCELLED and 5 <= job.done_frames < 1000
    assert not job.dir.exists()
    assert job.status_text().startswith(f"Cancelled after {job.done_frames} of 1000 frames")
    assert jobs.cancel("s") is None  # nothing running any more


def test_no_face_and_failures_become_one_sentence(tmp_path, no_probe):
    fake = FakePipeline(faces=0)
    jobs = JobManager(tmp_path / "root", load=fake.load)
    job = start_job(jobs, "a", tmp_path)
    assert job.finished.wait(10) and job.state == DONE and job.message == NO_FACE
    assert NO_FACE in job.status_text()

    def failing_load(options):
        raise MissingWeightsError([("VAE", "`latentsync download`")])

    jobs = JobManager(tmp_path / "root2", load=failing_load)
    job = start_job(jobs, "b", tmp_path)
    assert job.finished.wait(10) and job.state == FAILED
    assert "`latentsync download`" in job.message and not job.dir.exists()


def test_closing_the_page_removes_the_session_files(tmp_path, no_probe):
    fake = FakePipeline()
    jobs = JobManager(tmp_path / "root", load=fake.load)
    job = start_job(jobs, "s", tmp_path)
    assert job.finished.wait(10)
    assert jobs.session_dir("s").exists()
    jobs.end_session("s")
    assert not jobs.session_dir("s").exists() and jobs.job_of("s") is None
