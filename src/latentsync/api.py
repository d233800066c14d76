"""``LipSync``: load the models once, then lip-sync any number of videos from Python.

    from latentsync import LipSync

    with LipSync.from_pretrained("1.6", device="cuda") as ls:
        ls("in.mp4", "speech.wav", "out.mp4", steps=20, seed=1)

The CLI (``infer``, ``demo``), the app's jobs and ``batch`` run through this class too, so there is
one way to load and run. Keyword options are the ``InferenceOptions`` fields, which are the CLI
flags with dashes as underscores (``--guidance-scale`` -> ``guidance_scale``; ``fps`` also takes
``"model"``/``"source"`` like the flag, and ``no_resume=True`` means ``resume=False``). Options
given to ``from_pretrained`` are the defaults of every call. The options that pick the weights,
device and dtype (``MODEL_FIELDS``) are fixed by ``from_pretrained``: a call that changes one
raises ``ConfigError``; make a new ``LipSync`` for other models. Errors are the
``latentsync.errors`` classes the CLI turns into exit code 2; a cancelled run raises ``Cancelled``.
"""

from __future__ import annotations

import difflib
import gc
import logging
import threading
from collections.abc import Callable
from dataclasses import fields, replace
from pathlib import Path

import torch

from latentsync.errors import ConfigError, InputError
from latentsync.face.enhancer import locate_enhancer
from latentsync.pipeline.estimate import reports_out_of_memory
from latentsync.pipeline.model_loading import InferenceModels, load_inference_models
from latentsync.pipeline.options import MODEL_FIELDS, InferenceOptions, fps_timelines
from latentsync.pipeline.runner import InferenceSummary, check_inputs, run_inference
from latentsync.pipeline.threads import Cancelled
from latentsync.pipeline.timing import StageTimes
from latentsync.weights import DEFAULT_MODEL

__all__ = ["Cancelled", "InferenceSummary", "LipSync"]

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], None]  # (frames done, frames in total), after each written frame

PATH_FIELDS = ("video", "audio", "output")
OPTION_NAMES = tuple(f.name for f in fields(InferenceOptions) if f.name not in (*PATH_FIELDS, "extra"))
FLAG_SPELLINGS = ("no_resume",)  # CLI flags that are not a field's name


def keyword_options(given: dict) -> dict:
    """``given`` keywords as ``InferenceOptions`` fields; an unknown name is one ``InputError`` line."""
    unknown = [name for name in given if name not in OPTION_NAMES and name not in FLAG_SPELLINGS]
    if unknown:
        name = unknown[0]
        close = difflib.get_close_matches(name, [*OPTION_NAMES, *FLAG_SPELLINGS], n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}?" if close else f"options: {', '.join(OPTION_NAMES)}"
        raise InputError(f"unknown option {name!r}: {hint}")
    options = dict(given)
    if "no_resume" in options:
        options["resume"] = not options.pop("no_resume")
    if "fps" in options:
        explicit_model_fps = options.get("model_fps")
        options["fps"], options["model_fps"] = fps_timelines(options["fps"])
        if "model_fps" in given:
            options["model_fps"] = explicit_model_fps
    return options


def _load_models(options: InferenceOptions, _models: None = None) -> InferenceModels:
    return load_inference_models(options)


# On CUDA the estimate is checked against free memory before loading, and an out-of-memory while
# loading is one line with the numbers, as for a run.
load_models = reports_out_of_memory(_load_models)


class LipSync:
    """Loaded models plus default options; call it to lip-sync one video (one run at a time)."""

    def __init__(self, models: InferenceModels, defaults: InferenceOptions):
        """Prefer :meth:`from_pretrained` or :meth:`for_options`; ``defaults`` carries the model options."""
        self._models: InferenceModels | None = models
        self._defaults = defaults
        self._model_key = defaults.model_key()
        self._run_lock = threading.Lock()
        self._cancel_events: set[threading.Event] = set()

    @classmethod
    def from_pretrained(cls, model: str = DEFAULT_MODEL, **options) -> LipSync:
        """Load the published ``model`` (1.6 or 1.5), or the weights named by ``unet_checkpoint``,
        ``vae``, ``whisper``; every other keyword becomes a default of the calls."""
        placeholder = Path("unset")
        defaults = InferenceOptions(
            video=placeholder, audio=placeholder, output=placeholder, model=model, **keyword_options(options)
        )
        return cls.for_options(defaults)

    @classmethod
    def for_options(cls, options: InferenceOptions) -> LipSync:
        """Load the models ``options`` ask for; its other settings become the calls' defaults."""
        options.validate()
        return cls(load_models(options), options)

    @classmethod
    def run_once(
        cls,
        options: InferenceOptions,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> InferenceSummary:
        """One run with models loaded for it and freed after (the CLI): bad inputs fail before loading."""
        options.validate()
        check_inputs(options)
        options = locate_enhancer(options)
        if options.distributed:  # the workers load the models, not this process
            return run_inference(options, None, progress=progress, cancel=cancel)
        with cls.for_options(options) as lipsync:
            return lipsync.run(options, progress=progress, cancel=cancel)

    @property
    def model_key(self) -> tuple[str, ...]:
        """What the models were loaded for (``InferenceOptions.model_key``): caches are keyed by it."""
        return self._model_key

    @property
    def models(self) -> InferenceModels:
        if self._models is None:
            raise ConfigError("this LipSync was closed: make a new one with LipSync.from_pretrained(...)")
        return self._models

    def options(
        self, video: str | Path, audio: str | Path, output: str | Path, **options
    ) -> InferenceOptions:
        """The full options of a call: the defaults, then ``options`` (checked, not run)."""
        paths = {"video": Path(video), "audio": Path(audio), "output": Path(output)}
        return replace(self._defaults, **paths, **keyword_options(options))

    def __call__(
        self,
        video: str | Path,
        audio: str | Path,
        output: str | Path,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        timings: StageTimes | None = None,
        **options,
    ) -> InferenceSummary:
        """Lip-sync ``video`` to ``audio`` into ``output``; ``progress(done, total)`` after each frame;
        setting ``cancel`` (or calling :meth:`cancel`) stops the run with ``Cancelled``."""
        return self.run(self.options(video, audio, output, **options), progress, cancel, timings)

    def run(
        self,
        options: InferenceOptions,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        timings: StageTimes | None = None,
    ) -> InferenceSummary:
        """Run complete ``options`` (the app and batch build them) on these models."""
        self._check_same_models(options)
        options.validate()
        options = locate_enhancer(options)
        event = cancel if cancel is not None else threading.Event()
        self._cancel_events.add(event)
        try:
            with self._run_lock:
                if event.is_set():
                    raise Cancelled()
                return run_inference(options, self.models, progress=progress, cancel=event, timings=timings)
        finally:
            self._cancel_events.discard(event)

    def cancel(self) -> None:
        """Stop the running call (and any waiting one) from another thread; they raise ``Cancelled``."""
        for event in list(self._cancel_events):
            event.set()

    def _check_same_models(self, options: InferenceOptions) -> None:
        other = options.model_key()
        if other == self._model_key:
            return
        changed = [
            f"{name}={value!r} (loaded: {loaded!r})"
            for name, value, loaded in zip(MODEL_FIELDS, other, self._model_key, strict=True)
            if value != loaded
        ]
        raise ConfigError(
            f"these models were loaded for other settings: {', '.join(changed)}; "
            "make a new LipSync.from_pretrained(...) with them"
        )

    def close(self) -> None:
        """Drop the models and give their memory back (also on the GPU); later calls raise ConfigError."""
        models, self._models = self._models, None
        if models is None:
            return
        device = models.device
        del models
        gc.collect()
        if device.type == "cuda":
            torch.cuda.empty_cache()
        logger.debug("models released (%s)", device)

    def __enter__(self) -> LipSync:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._models is None else f"on {self._models.device}"
        return f"LipSync(model={self._defaults.model!r}, {state})"
