"""CPU offload of the run's models (``--offload none|model|sequential``); outputs equal ``none``.

- ``model``: every model waits on the CPU; the one about to run (Whisper encoder, VAE, UNet) is
  moved to the device first and the previous one goes back, so at most one model's weights are
  on the device at a time. Moves happen in forward pre-hooks on each model's entry modules
  (the VAE's encode and decode are methods, so its encoder, decoder and quant convolutions all
  carry the hook), which makes the placement follow the order the pipeline really uses them in.
- ``sequential``: accelerate's ``cpu_offload``: each submodule's weights come to the device only
  for its own forward (smallest footprint, slowest).

Face models are not torch modules here (MediaPipe runs on the CPU, insightface in its own
onnxruntime session), so they are outside this scheduling.
"""

from __future__ import annotations

import logging
import threading

import torch

from latentsync.errors import ConfigError

logger = logging.getLogger(__name__)

OFFLOAD_MODES = ("none", "model", "sequential")
_VAE_ENTRY_MODULES = ("encoder", "decoder", "quant_conv", "post_quant_conv")


def check_offload(mode: str) -> str:
    if mode not in OFFLOAD_MODES:
        raise ConfigError(f"unknown offload mode {mode!r}: use {', '.join(OFFLOAD_MODES)}")
    return mode


def load_device(mode: str, device: torch.device) -> torch.device:
    """Where a model's weights live between uses: the CPU when offloading."""
    return device if check_offload(mode) == "none" else torch.device("cpu")


class ModelOffload:
    """Keeps at most one registered model on ``device``; ``moves`` logs which model came in, in order."""

    def __init__(self, device: torch.device, home: torch.device | str = "cpu"):
        self.device = torch.device(device)
        self.home = torch.device(home)
        self.active: torch.nn.Module | None = None
        self.moves: list[str] = []
        self._lock = threading.Lock()
        self._handles: list = []

    def attach(self, name: str, model: torch.nn.Module, entry_modules: list[torch.nn.Module]) -> None:
        """Bring ``model`` to the device whenever one of ``entry_modules`` is about to run."""

        def pre_hook(_module, _args):
            self.activate(name, model)

        for entry in entry_modules:
            self._handles.append(entry.register_forward_pre_hook(pre_hook))

    def activate(self, name: str, model: torch.nn.Module) -> None:
        with self._lock:
            if self.active is model:
                return
            if self.active is not None:
                self.active.to(self.home)
            model.to(self.device)
            self.active = model
            self.moves.append(name)
            logger.debug("offload: %s on %s", name, self.device)

    def release(self) -> None:
        """Send the active model home (e.g. before the face models or another job need the device)."""
        with self._lock:
            if self.active is not None:
                self.active.to(self.home)
                self.active = None

    def detach(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        self.release()


def offload_models(mode: str, device: torch.device, unet, vae, whisper_encoder) -> ModelOffload | None:
    """Set up ``mode`` on models already loaded on the CPU; returns the ``model`` scheduler (else None)."""
    if check_offload(mode) == "none":
        return None
    if mode == "model":
        offload = ModelOffload(device)
        offload.attach("whisper", whisper_encoder, [whisper_encoder])
        offload.attach("vae", vae, [getattr(vae, name) for name in _VAE_ENTRY_MODULES if hasattr(vae, name)])
        offload.attach("unet", unet, [unet])
        return offload
    from accelerate import cpu_offload

    for model in (unet, vae, whisper_encoder):
        cpu_offload(model, execution_device=device)
    return None
