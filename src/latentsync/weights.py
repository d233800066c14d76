"""Where model weights come from: one resolver for every command and every file.

Model files (UNet, Whisper, VAE, StableSyncNet) and auxiliary files (insightface buffalo_l, SyncNet
v2, S3FD, hyperIQA, VGG, VideoMAE, I3D, enhancers) go through :func:`resolve`. Order: an explicit
path flag (``--unet-checkpoint``..., or ``--aux-dir`` for auxiliary files) > ``$LATENTSYNC_CHECKPOINTS``
> ``./checkpoints`` > the Hugging Face cache > a download (unless offline). Whatever is still
missing is reported in one message that names each file and the command that supplies it.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from latentsync.errors import MissingWeightsError

logger = logging.getLogger(__name__)

MODEL_VERSIONS = ("1.6", "1.5")
DEFAULT_MODEL = "1.6"
VAE_REPO = "stabilityai/sd-vae-ft-mse"
VAE_FILES = ("config.json", "diffusion_pytorch_model.safetensors")
AUXILIARY_REPO = "ByteDance/LatentSync"
# insightface's buffalo_l pack is not in the LatentSync repos (the original let insightface fetch it
# from GitHub at run time); this hub mirror serves the same files under models/buffalo_l/.
INSIGHTFACE_REPO = "public-data/insightface"
AUX_FLAG = "--aux-dir"
VERSION_MARKER = "latentsync_unet.version"


@dataclass(frozen=True)
class WeightFile:
    """One published file (or, for the VAE, a diffusers folder) and how a user supplies it."""

    key: str
    repo_id: str
    filename: str
    flag: str
    local_name: str = ""  # where it sits inside a checkpoints dir, if not ``filename``

    @property
    def local_path(self) -> str:
        return self.local_name or self.filename


def model_repo(version: str) -> str:
    return f"ByteDance/LatentSync-{version}"


def model_files(version: str = DEFAULT_MODEL) -> list[WeightFile]:
    """Files inference needs for a published model version."""
    if version not in MODEL_VERSIONS:
        raise ValueError(f"unknown model version {version!r}: use one of {', '.join(MODEL_VERSIONS)}")
    repo = model_repo(version)
    return [
        WeightFile("unet", repo, "latentsync_unet.pt", "--unet-checkpoint"),
        WeightFile("whisper", repo, "whisper/tiny.pt", "--whisper"),
        WeightFile("vae", VAE_REPO, "", "--vae", local_name="sd-vae-ft-mse"),
    ]


def training_files(version: str = DEFAULT_MODEL) -> list[WeightFile]:
    return [WeightFile("stable_syncnet", model_repo(version), "stable_syncnet.pt", "--syncnet-checkpoint")]


_AUX: dict[str, tuple[str, str, str]] = {  # key -> (repo, file in the repo, path under a checkpoints dir)
    "syncnet_v2": (AUXILIARY_REPO, "auxiliary/syncnet_v2.model", ""),
    "sfd_face": (AUXILIARY_REPO, "auxiliary/sfd_face.pth", ""),
    "koniq": (AUXILIARY_REPO, "auxiliary/koniq_pretrained.pkl", ""),
    "vgg16": (AUXILIARY_REPO, "auxiliary/vgg16-397923af.pth", ""),
    "videomae": (AUXILIARY_REPO, "auxiliary/vit_g_hybrid_pt_1200e_ssv2_ft.pth", ""),
    "i3d": (AUXILIARY_REPO, "auxiliary/i3d_torchscript.pt", ""),
    "insightface_det": (
        INSIGHTFACE_REPO,
        "models/buffalo_l/det_10g.onnx",
        "auxiliary/models/buffalo_l/det_10g.onnx",
    ),
    "insightface_landmark": (
        INSIGHTFACE_REPO,
        "models/buffalo_l/2d106det.onnx",
        "auxiliary/models/buffalo_l/2d106det.onnx",
    ),
}
FACE_MODEL_KEYS = ("insightface_det", "insightface_landmark")


def register_auxiliary(key: str, repo_id: str, filename: str, local_name: str = "") -> None:
    """Add an auxiliary file (e.g. an enhancer checkpoint) so every command resolves it the same way."""
    _AUX[key] = (repo_id, filename, local_name)


def auxiliary_keys() -> list[str]:
    return list(_AUX)


# Face restorers for --enhancer: the standard files, from Hugging Face mirrors of their GitHub releases.
_ENHANCERS = {
    "gfpgan": ("gmk123/GFPGAN", "GFPGANv1.4.pth"),
    "codeformer": ("Gourieff/ReActor", "models/facerestore_models/codeformer-v0.1.0.pth"),
}


def enhancer_file(name: str) -> WeightFile:
    """A named face restorer's checkpoint: an auxiliary file, so ``--aux-dir`` is searched for it too."""
    repo, filename = _ENHANCERS[name]
    return WeightFile(f"enhancer_{name}", repo, filename, AUX_FLAG)


def _is_enhancer(spec: WeightFile) -> bool:
    return spec.key.startswith("enhancer_")


def auxiliary_file(key: str) -> WeightFile:
    """An auxiliary file by key; ``enhancer_gfpgan``/``enhancer_codeformer`` are the named restorers."""
    if key.startswith("enhancer_") and key.removeprefix("enhancer_") in _ENHANCERS:
        return enhancer_file(key.removeprefix("enhancer_"))
    if key not in _AUX:
        raise ValueError(f"unknown auxiliary file {key!r}: use one of {', '.join(_AUX)}")
    repo_id, filename, local_name = _AUX[key]
    return WeightFile(key, repo_id, filename, AUX_FLAG, local_name=local_name)


def auxiliary_files(keys: list[str] | None = None) -> list[WeightFile]:
    """Preprocessing, evaluation, face and training-loss weights (all, or ``keys``), as ``auxiliary/``."""
    return [auxiliary_file(key) for key in (keys if keys else list(_AUX))]


def face_model_files() -> list[WeightFile]:
    """insightface buffalo_l detection + 106-point landmarks: what the published models were trained on."""
    return auxiliary_files(list(FACE_MODEL_KEYS))


def aux_dir_candidates(folder: str | os.PathLike, spec: WeightFile) -> list[Path]:
    """Where a file may sit in an ``--aux-dir``: as under checkpoints/, without ``auxiliary/``, or flat."""
    folder = Path(folder).expanduser()
    inner = spec.local_path.removeprefix("auxiliary/")
    names = dict.fromkeys([spec.local_path, inner, Path(spec.filename).name])
    return [folder / name for name in names]


def checkpoint_dirs() -> list[Path]:
    dirs = []
    env = os.environ.get("LATENTSYNC_CHECKPOINTS")
    if env:
        dirs.append(Path(env).expanduser())
    dirs.append(Path.cwd() / "checkpoints")
    return dirs


def is_offline() -> bool:
    flags = (os.environ.get("HF_HUB_OFFLINE", ""), os.environ.get("LATENTSYNC_OFFLINE", ""))
    return any(v.strip().lower() in ("1", "true", "yes", "on") for v in flags)


def hub_endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def hub_unreachable_reason(timeout: float = 5.0) -> str | None:
    """Why the hub cannot be reached (None if a TCP connection opens); avoids minutes of retries."""
    import socket
    from urllib.parse import urlsplit

    url = urlsplit(hub_endpoint())
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname or "", port), timeout=timeout):
            return None
    except OSError as exc:
        return f"cannot reach {hub_endpoint()} ({exc.strerror or type(exc).__name__})"


def _exists(path: Path, spec: WeightFile) -> bool:
    if spec.key == "vae":
        return all((path / name).is_file() for name in VAE_FILES)
    return path.is_file() and path.stat().st_size > 0


def _version_matches(folder: Path, spec: WeightFile) -> bool:
    """A checkpoints dir written for 1.5 must not serve a 1.6 request (and vice versa)."""
    marker = folder / VERSION_MARKER
    if spec.key != "unet" or not marker.is_file():
        return True
    return marker.read_text().strip() == spec.repo_id.rsplit("-", 1)[-1]


def find_local(spec: WeightFile) -> Path | None:
    for folder in checkpoint_dirs():
        candidate = folder / spec.local_path
        if _exists(candidate, spec) and _version_matches(folder, spec):
            return candidate
    return _find_in_hf_cache(spec)


def _find_in_hf_cache(spec: WeightFile) -> Path | None:
    from huggingface_hub import try_to_load_from_cache

    names = VAE_FILES if spec.key == "vae" else (spec.filename,)
    found = [try_to_load_from_cache(spec.repo_id, name) for name in names]
    if all(isinstance(f, str) for f in found):
        path = Path(found[0])
        return path.parent if spec.key == "vae" else path
    return None


def download_file(spec: WeightFile, local_dir: Path | None = None) -> Path:
    """Fetch with huggingface_hub (resumes partial downloads, shows progress)."""
    from huggingface_hub import hf_hub_download

    target = None
    if local_dir is not None:
        target = local_dir / spec.local_path if spec.key == "vae" else local_dir
        if spec.key != "vae" and spec.local_path != spec.filename and spec.local_path.endswith(spec.filename):
            target = local_dir / spec.local_path[: -len(spec.filename)]
    if spec.key == "vae":
        paths = [Path(hf_hub_download(spec.repo_id, name, local_dir=target)) for name in VAE_FILES]
        return paths[0].parent
    return Path(hf_hub_download(spec.repo_id, spec.filename, local_dir=target))


def _is_aux(spec: WeightFile) -> bool:
    return spec.flag == AUX_FLAG


def _how_to_supply(spec: WeightFile, version_hint: str, aux_keys: list[str]) -> str:
    """The fix for one missing file; auxiliary files share one download command naming them all."""
    if _is_enhancer(spec):
        name = spec.key.removeprefix("enhancer_")
        return (
            f"`latentsync download --enhancer {name}` while online, or {AUX_FLAG} DIR holding "
            f"{Path(spec.filename).name}, or --enhancer PATH, or put it under ./checkpoints/{spec.local_path}"
        )
    if _is_aux(spec):
        command = f"latentsync download --auxiliary {' '.join(aux_keys)}"
        flag = f"{AUX_FLAG} DIR holding {Path(spec.filename).name}"
    elif spec.key == "vae":
        command, flag = "latentsync download", f"{spec.flag} PATH"
    else:
        command, flag = f"latentsync download --model {version_hint}", f"{spec.flag} PATH"
    return f"{flag}, or `{command}` while online, or put it under ./checkpoints/{spec.local_path}"


def _explicit_path(
    spec: WeightFile, given: str | os.PathLike | None, aux_dir: str | os.PathLike | None
) -> tuple[Path | None, WeightFile, str | None]:
    """(path from a flag, spec to look up otherwise, why the flag's path is unusable)."""
    if _is_aux(spec) and aux_dir:
        hit = next((c for c in aux_dir_candidates(aux_dir, spec) if _exists(c, spec)), None)
        return hit, spec, None  # not there: the other places are still searched
    if not given:
        return None, spec, None
    path = Path(given).expanduser()
    if path.exists():
        return path, spec, None
    if spec.key == "vae" and "/" in str(given) and not str(given).startswith((".", "/", "~")):
        return None, WeightFile("vae", str(given), "", spec.flag, local_name=spec.local_name), None
    return None, spec, f"{spec.key} file {path} (does not exist)"


def resolve(
    specs: list[WeightFile],
    explicit: dict[str, str | os.PathLike | None] | None = None,
    allow_download: bool = True,
    aux_dir: str | os.PathLike | None = None,
) -> dict[str, Path]:
    """Paths for every spec, or one MissingWeightsError naming all that cannot be had.

    ``explicit`` maps a key to a path flag's value; ``aux_dir`` is ``--aux-dir`` (auxiliary files only).
    """
    explicit = explicit or {}
    resolved: dict[str, Path] = {}
    missing: list[tuple[str, WeightFile, str | None]] = []  # (what, spec, version hint; None: bad flag)
    unreachable: str | None = None
    for spec in specs:
        version_hint = (
            spec.repo_id.rsplit("-", 1)[-1]
            if spec.repo_id.startswith("ByteDance/LatentSync-")
            else DEFAULT_MODEL
        )
        path, spec, bad_flag = _explicit_path(spec, explicit.get(spec.key), aux_dir)
        if path is not None:
            resolved[spec.key] = path
            continue
        if bad_flag:
            missing.append((bad_flag, spec, None))
            continue
        local = find_local(spec)
        if local is not None:
            resolved[spec.key] = local
            continue
        label = f"{spec.repo_id}/{spec.filename or ''}".rstrip("/")
        if allow_download and not is_offline() and unreachable is None:
            unreachable = hub_unreachable_reason() or ""
        if not allow_download or is_offline() or unreachable:
            missing.append((label, spec, version_hint))
            continue
        try:
            logger.info("downloading %s", label)
            resolved[spec.key] = download_file(spec)
        except Exception as exc:  # hub unreachable, auth, disk: all reported the same way
            logger.debug("download of %s failed: %s", label, exc)
            missing.append((f"{label} (download failed: {type(exc).__name__})", spec, version_hint))
    if missing:
        raise _missing_error(missing, unreachable, aux_dir)
    return resolved


def resolve_aux(
    keys: list[str], aux_dir: str | os.PathLike | None = None, allow_download: bool = True
) -> dict[str, Path]:
    """Auxiliary files by key (``syncnet_v2``, ``sfd_face``, ``koniq``, ``insightface_det``...)."""
    return resolve(auxiliary_files(keys), allow_download=allow_download, aux_dir=aux_dir)


def _missing_error(
    missing: list[tuple[str, WeightFile, str | None]], unreachable: str | None, aux_dir
) -> MissingWeightsError:
    aux_keys = [spec.key for _, spec, _ in missing if _is_aux(spec) and not _is_enhancer(spec)]
    searched_aux_dir = aux_dir and any(_is_aux(spec) for _, spec, _ in missing)
    pairs = [
        (what, f"{spec.flag} with an existing path" if hint is None else _how_to_supply(spec, hint, aux_keys))
        for what, spec, hint in missing
    ]
    reason = unreachable or ("offline mode is on" if is_offline() else "")  # why nothing was downloaded
    why = "; ".join(filter(None, [reason, f"not in {AUX_FLAG} {aux_dir}" if searched_aux_dir else ""]))
    lines = "; ".join(f"{what} (supply with {how})" for what, how in pairs)
    message = f"missing weights{f' ({why})' if why else ''}: {lines}"
    return MissingWeightsError(pairs, message=message, reason=reason)


def download_all(
    version: str = DEFAULT_MODEL,
    auxiliary: bool | list[str] = False,
    local_dir: Path | None = None,
    enhancers: tuple[str, ...] = (),
) -> list[Path]:
    """``latentsync download``: every file of a model plus the face models inference aligns with
    (and with ``auxiliary=True`` the whole auxiliary set), into the cache or a dir. A list of
    auxiliary keys fetches only those files (what a missing-file message asks for); ``enhancers``
    fetches only those face restorers."""
    if enhancers:
        specs = [enhancer_file(name) for name in enhancers]
    elif auxiliary and auxiliary is not True:
        specs = auxiliary_files(list(auxiliary))
    else:
        specs = model_files(version) + training_files(version) + face_model_files()
        if auxiliary:
            specs += [s for s in auxiliary_files() if s.key not in FACE_MODEL_KEYS]
    if is_offline():
        names = [f"{s.repo_id}/{s.filename}".rstrip("/") for s in specs]
        raise MissingWeightsError(
            [(n, "a connection to the hub") for n in names],
            message=f"cannot download while offline (HF_HUB_OFFLINE/LATENTSYNC_OFFLINE is set): {', '.join(names)}; "
            "unset it, or copy the files into ./checkpoints (or $LATENTSYNC_CHECKPOINTS) in the same layout",
        )
    reason = hub_unreachable_reason()
    if reason:
        names = [f"{s.repo_id}/{s.filename}".rstrip("/") for s in specs]
        raise MissingWeightsError(
            [(n, "a connection to the hub") for n in names],
            message=f"{reason}; not downloaded: {', '.join(names)}. Run `latentsync download --dir checkpoints` "
            "on a connected machine and copy the folder here, or set HF_ENDPOINT to a reachable mirror",
        )
    done: list[Path] = []
    failed: list[tuple[str, str]] = []
    for spec in specs:
        label = f"{spec.repo_id}/{spec.filename}".rstrip("/")
        try:
            done.append(download_file(spec, local_dir))
            logger.info("have %s", label)
        except Exception as exc:
            failed.append(
                (
                    f"{label} (download failed: {type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''})",
                    "a working connection to the hub (HF_ENDPOINT for a mirror), then rerun; partial files resume",
                )
            )
    if local_dir is not None and not failed and any(s.key == "unet" for s in specs):
        (local_dir / VERSION_MARKER).write_text(version + "\n")
    if failed:
        raise MissingWeightsError(failed)
    return done
