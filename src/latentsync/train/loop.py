"""What both trainers share: Accelerate setup, the step loop with accumulation/clipping/LR schedule,
periodic checkpoints, loss curves, TensorBoard and the progress bar."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import torch
from omegaconf import DictConfig

from latentsync.device import pick_device
from latentsync.train.checkpoints import checkpoint_path, save_checkpoint, set_rng_state
from latentsync.train.common import setting
from latentsync.train.plots import plot_curves
from latentsync.train.sampling import StepBatchSampler

logger = logging.getLogger(__name__)


def make_accelerator(config: DictConfig, output_dir: Path, accumulation: int, find_unused: bool = False):
    """Accelerator: DDP/FSDP/DeepSpeed come from ``accelerate launch``/its config; CPU runs stay fp32."""
    from accelerate import Accelerator
    from accelerate.utils import DistributedDataParallelKwargs, InitProcessGroupKwargs, ProjectConfiguration

    device = pick_device("auto")
    precision = str(config.run.get("mixed_precision", "") or "")
    if not precision:
        mixed = config.run.get("mixed_precision_training", False)
        precision = "fp16" if mixed and device.type == "cuda" else "no"
    log_with = "tensorboard" if config.run.get("tensorboard", True) else None
    # Without cpu=True, Accelerate ignores a torchrun/gloo launch on machines with no GPU.
    return Accelerator(
        cpu=device.type == "cpu",
        mixed_precision=precision,
        gradient_accumulation_steps=accumulation,
        log_with=log_with,
        project_config=ProjectConfiguration(
            project_dir=str(output_dir), logging_dir=str(output_dir / "logs")
        ),
        step_scheduler_with_optimizer=False,
        kwargs_handlers=[
            DistributedDataParallelKwargs(find_unused_parameters=find_unused),
            # the other ranks wait in a collective while rank 0 validates (a whole inference run)
            InitProcessGroupKwargs(timeout=timedelta(minutes=process_group_timeout_minutes(config))),
        ],
    )


def process_group_timeout_minutes(config: DictConfig) -> float:
    """``run.process_group_timeout_minutes`` (default 120): longer than one validation, which only rank 0
    runs while the others wait at a barrier (torch's default, 10 min for NCCL, can expire first)."""
    return float(config.run.get("process_group_timeout_minutes", 120))


def prepare_for_training(accelerator, model, optimizer, loader):
    """``accelerator.prepare`` of model and optimizer. DeepSpeed also gets the dataloader (it reads the
    micro-batch size from it when its config says "auto"); our per-rank loader is used as is either way."""
    from accelerate.utils import DistributedType

    if accelerator.distributed_type == DistributedType.DEEPSPEED:
        model, optimizer, _ = accelerator.prepare(model, optimizer, loader)
        return model, optimizer
    return accelerator.prepare(model, optimizer)


def make_lr_scheduler(config: DictConfig, optimizer: torch.optim.Optimizer, max_steps: int):
    from diffusers.optimization import get_scheduler

    return get_scheduler(
        str(config.optimizer.get("lr_scheduler", "constant")),
        optimizer=optimizer,
        num_warmup_steps=int(config.optimizer.get("lr_warmup_steps", 0)),
        num_training_steps=max_steps,
    )


@dataclass
class History:
    """Loss values per optimizer step (train) and per validation (val), kept across resumes."""

    train_steps: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    val_steps: list[int] = field(default_factory=list)
    val_values: dict[str, list[float]] = field(default_factory=dict)

    def state_dict(self) -> dict:
        return dict(self.__dict__)

    def load_state_dict(self, state: dict) -> None:
        for key, value in state.items():
            setattr(self, key, value)


@dataclass
class TrainResult:
    global_step: int
    history: History
    output_dir: Path
    last_checkpoint: Path | None


@dataclass(eq=False)
class StepLoop:
    """Runs ``step_loss(batch, micro_step)`` until ``max_steps`` optimizer steps.

    One optimizer step = ``accumulation`` micro-batches; gradients are clipped to
    ``max_grad_norm`` before each step. ``on_step(global_step)`` runs after each step on every
    process (validation, extra logging).
    """

    accelerator: object  # accelerate.Accelerator
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    lr_scheduler: object  # a torch LR scheduler
    output_dir: Path
    max_steps: int
    save_every: int
    max_grad_norm: float
    accumulation: int
    name: str
    history: History = field(default_factory=History)
    global_step: int = 0
    last_checkpoint: Path | None = None

    @classmethod
    def from_config(
        cls,
        config: DictConfig,
        accelerator,
        model: torch.nn.Module,
        optimizer: torch.optim.Optimizer,
        output_dir: Path,
        accumulation: int,
        name: str,
        default_save_every: int,
    ) -> StepLoop:
        """The loop a config's ``run.max_train_steps``, LR schedule, ``ckpt.save_ckpt_steps`` and
        ``optimizer.max_grad_norm`` describe."""
        max_steps = int(setting(config, "run.max_train_steps", 1000))
        return cls(
            accelerator,
            model,
            optimizer,
            make_lr_scheduler(config, optimizer, max_steps),
            output_dir,
            max_steps,
            save_every=int(setting(config, "ckpt.save_ckpt_steps", default_save_every)),
            max_grad_norm=float(setting(config, "optimizer.max_grad_norm", 1.0)),
            accumulation=accumulation,
            name=name,
        )

    def loader(self, dataset: torch.utils.data.Dataset, config: DictConfig) -> torch.utils.data.DataLoader:
        """An endless loader from this loop's step on, whose batches depend only on (seed, micro step,
        rank): exact resumes, no overlap between ranks (``data.batch_size``, ``data.num_workers``)."""
        sampler = StepBatchSampler(
            int(config.data.batch_size),
            self.accelerator.process_index,
            self.accelerator.num_processes,
            start_step=self.global_step * self.accumulation,
        )
        workers = int(setting(config, "data.num_workers", 0))
        return torch.utils.data.DataLoader(
            dataset, batch_sampler=sampler, num_workers=workers, persistent_workers=workers > 0
        )

    def restore(self, global_step: int, sidecar: dict | None) -> None:
        self.global_step = global_step
        if sidecar:
            self.optimizer.load_state_dict(sidecar["optimizer"])
            if sidecar.get("scheduler") is not None:
                self.lr_scheduler.load_state_dict(sidecar["scheduler"])
            self.history.load_state_dict(sidecar.get("history", {}))
            if self.accelerator.num_processes == 1:
                set_rng_state(sidecar["rng"])
            logger.info("resumed optimizer, LR schedule and history at step %d", global_step)
        elif global_step:
            logger.info(
                "resuming weights at step %d without optimizer state (published checkpoint)", global_step
            )

    def save(self, model_state: dict[str, torch.Tensor]) -> Path:
        path = checkpoint_path(self.output_dir, self.global_step)
        self.last_checkpoint = save_checkpoint(
            path, model_state, self.global_step, self.optimizer, self.lr_scheduler, self.history.state_dict()
        )
        self.plot()
        return path

    def plot(self) -> None:
        curves = {"train loss": (self.history.train_steps, self.history.train_loss)}
        for key, values in self.history.val_values.items():
            curves[key] = (self.history.val_steps, values)
        plot_curves(self.output_dir / "loss_chart.png", curves, title=self.name)

    def run(
        self,
        batches: Iterator[dict],
        step_loss: Callable[[dict, int], tuple[torch.Tensor, dict[str, float]]],
        on_step: Callable[[int], None] | None = None,
    ) -> TrainResult:
        from tqdm.auto import tqdm

        acc = self.accelerator
        bar = tqdm(
            total=self.max_steps,
            initial=self.global_step,
            desc=self.name,
            unit="step",
            disable=not acc.is_main_process,
            dynamic_ncols=True,
        )
        self.model.train()
        micro = self.global_step * self.accumulation
        running, parts_sum = 0.0, {}
        while self.global_step < self.max_steps:
            batch = next(batches)
            with acc.accumulate(self.model):
                loss, parts = step_loss(batch, micro)
                acc.backward(loss)
                if acc.sync_gradients and self.max_grad_norm > 0:
                    acc.clip_grad_norm_(self.model.parameters(), self.max_grad_norm)
                self.optimizer.step()
                self.optimizer.zero_grad(set_to_none=True)
            micro += 1
            running += loss.detach().float() / self.accumulation
            for key, value in parts.items():
                parts_sum[key] = parts_sum.get(key, 0.0) + value / self.accumulation
            if not acc.sync_gradients:
                continue
            self.lr_scheduler.step()
            self.global_step += 1
            step_value = acc.gather(running.reshape(1)).mean().item()
            if not math.isfinite(step_value):
                logger.warning("non-finite loss at step %d", self.global_step)
            self.history.train_steps.append(self.global_step)
            self.history.train_loss.append(step_value)
            logs = {"loss": step_value, "lr": self.lr_scheduler.get_last_lr()[0], **parts_sum}
            acc.log(logs, step=self.global_step)
            bar.set_postfix(loss=f"{step_value:.4f}")
            bar.update(1)
            running, parts_sum = 0.0, {}
            if self.save_every > 0 and self.global_step % self.save_every == 0:
                acc.wait_for_everyone()
                state = acc.get_state_dict(
                    self.model
                )  # a collective under FSDP / ZeRO-3: every rank calls it
                if acc.is_main_process:
                    self.save(state)
            if on_step is not None:
                on_step(self.global_step)
        bar.close()
        acc.wait_for_everyone()
        if acc.is_main_process:
            self.plot()
        acc.end_training()
        return TrainResult(self.global_step, self.history, self.output_dir, self.last_checkpoint)
