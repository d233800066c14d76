"""Everything a lip-sync run is told, in one place (CLI, app, batch and scripts fill it)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path

from latentsync.face.blend_region import DEFAULT_BLEND
from latentsync.weights import DEFAULT_MODEL

UNET_CONFIG_FOR_MODEL = {"1.6": "stage2_512", "1.5": "stage2"}
MODEL_FPS = 25.0  # the published weights' training frame rate (see pipeline/retime.py)
# The options that decide which weights are loaded, on which device, in which dtype: runs that agree
# on these share one loaded model set (the API's LipSync, the app's and batch's model caches).
MODEL_FIELDS = (
    "model",
    "unet_config",
    "unet_checkpoint",
    "vae",
    "whisper",
    "device",
    "dtype",
    "offload",
    "autocast",
)


@dataclass
class InferenceOptions:
    video: Path
    audio: Path
    output: Path
    model: str = DEFAULT_MODEL
    unet_config: str | None = None  # name or YAML path; default follows --model
    unet_checkpoint: str | None = None
    vae: str | None = None
    whisper: str | None = None
    steps: int = 20
    guidance_scale: float = 1.5
    seed: int = 1247
    deepcache: bool = False
    device: str = "auto"
    dtype: str = "auto"
    batch_chunks: int = 1
    face_detector: str = "auto"  # insightface when its files are found, else mediapipe
    face_threshold: float | None = None  # detector's minimum score (None: its default)
    aux_dir: str | None = None  # --aux-dir: auxiliary weights (face models, enhancers)
    face_index: int | None = None
    min_face_frames: int = 5  # a face seen in fewer frames in a row is not lip-synced (anti-flicker)
    blend: str = DEFAULT_BLEND  # "mouth": only the mask region replaces the source; "face": the whole crop
    enhancer: str | None = None  # gfpgan | codeformer | a spandrel checkpoint path (face/enhancer.py)
    enhancer_strength: float = 1.0  # 0 = the generated crop, 1 = the restored one
    fps: float | None = None  # output rate; None keeps the source rate
    model_fps: float | None = MODEL_FPS  # the UNet's timeline; None = the output rate (--fps source)
    keep_video_length: bool = False
    codec: str = "libx264"
    crf: int = 18
    resume: bool = True
    quiet: bool = False
    segment_chunks: int = 8  # resumable unit: this many model chunks per segment file
    fade_frames: int = 3
    # opt-in speed switches (latentsync.pipeline.fast_paths); defaults keep the reference behaviour
    autocast: str | None = None  # "bf16" (CPU or GPU) / "fp16" (GPU): UNet under torch.autocast
    channels_last: bool = False
    compile: bool = False
    vae_slicing: bool = False
    vae_tiling: bool = False
    # memory switches (latentsync.pipeline.offload, latentsync.pipeline.estimate); outputs unchanged
    offload: str = "none"  # none | model (one model on the device at a time) | sequential (per submodule)
    low_vram: bool = (
        False  # preset: offload=model, VAE slicing, dtype auto (fp16 on CUDA), tiling above 512 px
    )
    # faces and scale-out (pipeline/face_track.py, pipeline/workers.py); outputs unchanged
    face_cache: str = "auto"  # auto (the user cache), off (this run's work folder) or a folder
    workers: int = 1  # >1: a local Dask cluster, one worker per device of ``devices``
    devices: str = "auto"  # the workers' devices: auto (every GPU, else CPU) or cuda:0,cuda:1,...
    scheduler: str | None = None  # tcp://host:8786: use that Dask cluster's workers
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        self.video, self.audio, self.output = Path(self.video), Path(self.audio), Path(self.output)
        if self.low_vram:
            if self.offload == "none":
                self.offload = "model"
            self.vae_slicing = True

    @property
    def distributed(self) -> bool:
        return self.workers > 1 or bool(self.scheduler)

    @property
    def unet_config_name(self) -> str:
        return self.unet_config or UNET_CONFIG_FOR_MODEL[self.model]

    def model_key(self) -> tuple[str, ...]:
        """Equal for runs that can share loaded models (see ``MODEL_FIELDS``)."""
        values = {name: getattr(self, name) for name in MODEL_FIELDS}
        values["unet_config"] = self.unet_config_name  # omitted = the model's own config
        return tuple(str(values[name]) for name in MODEL_FIELDS)

    def validate(self) -> None:
        """Reject settings no run can use, with the CLI flag's name (ConfigError: one line, exit 2)."""
        from latentsync.device import pick_device
        from latentsync.errors import ConfigError
        from latentsync.pipeline.offload import check_offload

        pick_device(self.device)  # a missing GPU is one line now, not after the inputs were read
        if not 1 <= self.steps <= 1000:
            raise ConfigError(f"--steps must be between 1 and 1000, got {self.steps}")
        if self.batch_chunks < 1:
            raise ConfigError(f"--batch-chunks must be >= 1, got {self.batch_chunks}")
        if self.fps is not None and not 1 <= self.fps <= 240:
            raise ConfigError(f"--fps must be between 1 and 240, got {self.fps}")
        if not 0 <= self.enhancer_strength <= 1:
            raise ConfigError(f"--enhancer-strength must be between 0 and 1, got {self.enhancer_strength}")
        if not 0 <= self.crf <= 51:
            raise ConfigError(f"--crf must be between 0 and 51, got {self.crf}")
        if self.segment_chunks < 1:
            raise ConfigError(f"--segment-chunks must be >= 1, got {self.segment_chunks}")
        if self.face_threshold is not None and not 0 < self.face_threshold <= 1:
            raise ConfigError(f"--face-threshold must be in (0, 1], got {self.face_threshold}")
        if self.min_face_frames < 1:
            raise ConfigError(f"--min-face-frames must be >= 1, got {self.min_face_frames}")
        if self.workers < 1:
            raise ConfigError(f"--workers must be >= 1, got {self.workers}")
        if self.workers > 1 and not self.scheduler:
            from latentsync.device import local_devices

            local_devices(self.devices, self.workers)  # each listed device must exist here
        if self.face_index is not None and self.face_index < 0:
            raise ConfigError(f"--face-index must be >= 0, got {self.face_index}")
        check_offload(self.offload)
        if self.compile and self.offload == "sequential":
            raise ConfigError(
                "--compile does not work with --offload sequential (its per-layer hooks): use one"
            )

    def fingerprint(self, device_type: str | None = None, torch_dtype: object = None) -> str:
        """Identifies inputs + every option that changes output pixels (for resuming safely).

        ``device_type``/``torch_dtype`` are what the run really resolved (``cuda``, ``torch.float16``),
        not "auto": a GPU fp16 run is never continued on the CPU in fp32 into the same output.
        """
        keys = (
            "model",
            "unet_config",
            "unet_checkpoint",
            "vae",
            "whisper",
            "steps",
            "guidance_scale",
            "seed",
            "deepcache",
            "dtype",
            "face_detector",
            "face_index",
            "min_face_frames",
            "blend",
            "fps",
            "model_fps",
            "keep_video_length",
            "codec",
            "crf",
            "segment_chunks",
            "fade_frames",
        )
        data = {k: str(asdict(self)[k]) for k in keys}
        if device_type is not None:
            data["device_type"] = str(device_type)
        if torch_dtype is not None:
            data["dtype"] = str(torch_dtype)
        # switches that may move pixels slightly; only when set, so default fingerprints stay as they were
        for key in ("autocast", "channels_last", "compile", "vae_tiling", "low_vram", "face_threshold"):
            if getattr(self, key):
                data[key] = str(getattr(self, key))
        if self.enhancer:
            data["enhancer"] = f"{self.enhancer}@{self.enhancer_strength}"
        for name in ("video", "audio"):
            path = getattr(self, name)
            stat = path.stat()
            data[name] = f"{path.resolve()}:{stat.st_size}:{int(stat.st_mtime)}"
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def option_default(name: str):
    """The default of an ``InferenceOptions`` field: the one source the CLI flags and the app's form use."""
    for f in fields(InferenceOptions):
        if f.name == name:
            if f.default is MISSING:
                raise KeyError(f"InferenceOptions.{name} has no default")
            return f.default
    raise KeyError(f"InferenceOptions has no field {name!r}")


def fps_timelines(fps: str | float | None) -> tuple[float | None, float | None]:
    """``--fps`` (model, source or a rate) -> (output rate or None = the source's, UNet rate or None = the output's)."""
    if fps == "source":
        return None, None
    if fps in (None, "model"):
        return None, MODEL_FPS
    return float(fps), MODEL_FPS
