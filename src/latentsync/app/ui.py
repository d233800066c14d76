"""The page: inputs, Generate/Cancel, a progress bar fed by the pipeline's frame count, the result."""

from __future__ import annotations

import inspect
import logging
import shutil
from dataclasses import fields

import gradio as gr

from latentsync.app import form
from latentsync.app.errors import friendly_message
from latentsync.app.jobs import CANCELLED, DONE, JobManager
from latentsync.app.settings import UI_DEFAULT_STEPS, UI_MAX_STEPS, AppSettings
from latentsync.errors import LatentSyncError
from latentsync.pipeline.options import option_default

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.4
GENERATION_QUEUE = "lipsync-device"  # one concurrency group: one generation at a time
INTRO = (
    "## LatentSync lip-sync\n"
    "Upload a talking-head **video** and the driving **audio** (an audio file, or a video with sound), "
    "then press **Generate**. Long videos work: they are processed in a stream, frame by frame."
)
# System fonts only: the page must not fetch anything from the internet.
THEME = gr.themes.Default(
    font=["ui-sans-serif", "system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"]
)


def _session(request: gr.Request | None) -> str:
    return (request.session_hash if request is not None else None) or "anonymous"


def named_form_parameters(method):
    """Name ``method``'s ``*values`` after the :class:`form.FormValues` fields, in the page's input order.

    The HTTP API (``gradio_client``, the page's "Use via API") then lists ``video, audio, steps, ...``
    instead of ``param_0, param_1, ...``. Defaults are None: a value left out gets the page's default.
    Only the signature gradio reads changes; gradio still passes the values positionally.
    """
    signature = inspect.signature(method)
    kept = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.VAR_POSITIONAL]
    named = [
        inspect.Parameter(f.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None)
        for f in fields(form.FormValues)
    ]
    method.__signature__ = signature.replace(parameters=[*kept, *named])
    return method


class Handlers:
    """Event handlers bound to one server's settings and job manager."""

    def __init__(self, settings: AppSettings, jobs: JobManager):
        self.settings = settings
        self.jobs = jobs

    @named_form_parameters
    def generate(
        self,
        request: gr.Request,
        progress=gr.Progress(),  # noqa: B008 - gradio's way to ask for a progress bar
        *values,
    ):
        """Start a job from the form's ``values`` (in :class:`form.FormValues` order) and follow it.

        Gradio fills ``request`` and ``progress`` itself (by annotation and default) and passes the
        components after them, so this one signature serves the click event with no wrapper that
        would have to name every field twice.
        """
        session = _session(request)
        values = form.FormValues(*values)
        job_dir = None
        try:
            job_dir = self.jobs.new_job_dir(session)
            options = form.options_from_form(values, self.settings, job_dir / "lipsync.mp4")
            job = self.jobs.start(session, job_dir, options)
        except Exception as exc:  # noqa: BLE001 - shown as one sentence, logged in full
            if job_dir is not None:
                shutil.rmtree(job_dir, ignore_errors=True)
            message = friendly_message(exc)
            if not isinstance(exc, LatentSyncError):
                logger.exception("could not start a job")
            yield None, message
            raise gr.Error(message, duration=None, print_exception=False) from None

        shown = None
        progress(0, desc="Starting…")
        while not job.finished.wait(POLL_SECONDS):
            text = job.status_text()
            if job.total_frames:
                progress((job.done_frames, job.total_frames), desc=text, unit="frames")
            else:
                progress(0, desc=text)
            if text != shown:
                shown = text
                yield gr.skip(), text

        if job.state == DONE:
            yield str(job.output), job.status_text()
            if job.message:
                gr.Warning(job.message)
            return
        if job.state == CANCELLED:
            yield None, job.status_text()
            return
        yield None, job.message
        raise gr.Error(job.message, duration=None, print_exception=False)

    @named_form_parameters
    def estimate_memory(self, *values) -> str:
        """The peak device memory of the job Generate would start (the same report as ``infer --estimate``)."""
        try:
            report = form.memory_estimate(form.FormValues(*values), self.settings)
        except Exception as exc:  # noqa: BLE001 - shown as one sentence, logged in full
            if not isinstance(exc, LatentSyncError):
                logger.exception("could not estimate memory")
            return friendly_message(exc)
        return f"```text\n{report}\n```"

    def cancel(self, request: gr.Request):
        job = self.jobs.cancel(_session(request))
        if job is None:
            return "Nothing to cancel."
        return job.status_text() if job.finished.is_set() else "Cancelling…"

    def unload(self, request: gr.Request) -> None:
        self.jobs.end_session(_session(request))


def build_ui(settings: AppSettings, jobs: JobManager) -> gr.Blocks:
    handlers = Handlers(settings, jobs)
    min_steps = settings.min_steps
    with gr.Blocks(title="LatentSync", analytics_enabled=False, delete_cache=_delete_cache(settings)) as demo:
        gr.Markdown(INTRO)
        with gr.Row():
            with gr.Column():
                video = gr.Video(label="Video", sources=["upload"], height=400, elem_id="input-video")
                audio = gr.File(
                    label="Audio (wav, mp3, m4a, flac… or a video with sound)",
                    file_types=["audio", "video"],
                    type="filepath",
                    elem_id="input-audio",
                )
                with gr.Row():
                    run = gr.Button("Generate", variant="primary", elem_id="generate")
                    stop = gr.Button("Cancel", variant="stop", elem_id="cancel")
                with gr.Accordion("Settings", open=True):
                    with gr.Row():
                        steps = gr.Slider(
                            min_steps,
                            UI_MAX_STEPS,
                            value=max(min_steps, UI_DEFAULT_STEPS),
                            step=1,
                            label="Inference steps",
                            elem_id="steps",
                        )
                        guidance = gr.Slider(
                            1.0, 3.0, value=option_default("guidance_scale"), step=0.1, label="Guidance scale"
                        )
                    with gr.Row():
                        seed = gr.Number(value=option_default("seed"), precision=0, minimum=0, label="Seed")
                        crf = gr.Slider(
                            0, 51, value=option_default("crf"), step=1, label="Quality (CRF, lower is better)"
                        )
                    with gr.Row():
                        face_choice = gr.Radio(
                            [form.FACE_LARGEST, form.FACE_BY_INDEX], value=form.FACE_LARGEST, label="Face"
                        )
                        face_index = gr.Number(value=0, precision=0, minimum=0, label="Face index")
                    with gr.Row():
                        fps_choice = gr.Radio(
                            [form.FPS_MODEL, form.FPS_SOURCE, form.FPS_25],
                            value=form.FPS_MODEL,
                            label="Output frame rate",
                        )
                        deepcache = gr.Checkbox(value=False, label="DeepCache (faster, slightly different)")
                    with gr.Row():
                        detector = gr.Radio(
                            form.DETECTOR_CHOICES, value=form.DEFAULT_DETECTOR, label="Face detector"
                        )
                        blend = gr.Radio(
                            form.BLEND_CHOICES,
                            value=form.BLEND_CHOICES[0],
                            label="Paste-back region (mouth keeps the source's eyes and skin)",
                        )
                    with gr.Row():
                        enhancer = gr.Radio(
                            form.ENHANCER_CHOICES, value=form.ENHANCER_OFF, label="Face enhancer"
                        )
                        enhancer_strength = gr.Slider(
                            0.0,
                            1.0,
                            value=form.DEFAULT_ENHANCER_STRENGTH,
                            step=0.05,
                            label="Enhancer strength",
                        )
                    model_choice = gr.Radio(
                        [*form.MODEL_CHOICES, form.CUSTOM_MODEL],
                        value=form.default_model_choice(settings),
                        label="Model",
                    )
                    checkpoint = gr.Textbox(
                        value=settings.unet_checkpoint or "",
                        label="Custom UNet checkpoint (a path on the server)",
                        placeholder="/path/to/latentsync_unet.pt",
                    )
            with gr.Column():
                result = gr.Video(
                    label="Result",
                    interactive=False,
                    buttons=["download"],
                    height=400,
                    elem_id="result-video",
                )
                status = gr.Markdown("", elem_id="status")
                estimate = gr.Button("Estimate memory", elem_id="estimate-memory")
                memory = gr.Markdown("", elem_id="memory-estimate")

        inputs = [video, audio, steps, guidance, seed, deepcache, face_choice, face_index, fps_choice, crf]
        inputs += [model_choice, checkpoint, detector, blend, enhancer, enhancer_strength]

        generation = run.click(
            handlers.generate,
            inputs,
            [result, status],
            concurrency_limit=1,
            concurrency_id=GENERATION_QUEUE,
            show_progress="full",
            show_progress_on=[result],
            api_name="generate",
        )
        estimate.click(handlers.estimate_memory, inputs, memory, api_name="estimate_memory")
        stop.click(handlers.cancel, None, status, queue=False, api_name="cancel")
        stop.click(None, cancels=[generation])
        demo.unload(handlers.unload)
    return demo


def _delete_cache(settings: AppSettings) -> tuple[int, int]:
    age = max(60, int(settings.keep_results_seconds))
    return (min(600, age), age)
