"""Down, mid and up blocks of the UNet3D: resnet -> (spatial/audio transformer) -> (motion module).

Up blocks expose ``layer(i, ...)`` so DeepCache can stop before, or run only, their last layer.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from latentsync.models.attention3d import Transformer3DModel
from latentsync.models.motion_module import get_motion_module
from latentsync.models.resnet3d import Downsample3D, ResnetBlock3D, Upsample3D


class _CheckpointingBlock(nn.Module):
    """Runs its sub-layers through activation checkpointing when enabled and training."""

    def __init__(self) -> None:
        super().__init__()
        self.gradient_checkpointing = False
        self._gradient_checkpointing_func: Callable | None = None

    def _run(self, module: nn.Module, *args):
        if self.gradient_checkpointing and torch.is_grad_enabled():
            if self._gradient_checkpointing_func is not None:
                return self._gradient_checkpointing_func(module, *args)
            return torch.utils.checkpoint.checkpoint(module, *args, use_reentrant=False)
        return module(*args)


def _transformer(channels: int, kw: dict) -> Transformer3DModel:
    heads = kw["attn_num_head_channels"]
    return Transformer3DModel(
        heads,
        channels // heads,
        in_channels=channels,
        num_layers=1,
        norm_num_groups=kw["resnet_groups"],
        cross_attention_dim=kw["cross_attention_dim"],
        use_linear_projection=kw.get("use_linear_projection", False),
        add_audio_layer=kw.get("add_audio_layer", False),
    )


def _resnet(in_channels: int, out_channels: int, kw: dict, output_scale_factor: float = 1.0) -> ResnetBlock3D:
    return ResnetBlock3D(
        in_channels,
        out_channels,
        kw["temb_channels"],
        groups=kw["resnet_groups"],
        eps=kw["resnet_eps"],
        act_fn=kw["resnet_act_fn"],
        time_embedding_norm=kw.get("resnet_time_scale_shift", "default"),
        output_scale_factor=output_scale_factor,
        per_frame_norm=kw.get("use_inflated_groupnorm", False),
    )


def _motion_modules(channels: int, count: int, kw: dict) -> nn.ModuleList:
    if not kw.get("use_motion_module"):
        return nn.ModuleList([None] * count)
    return nn.ModuleList(
        get_motion_module(channels, kw["motion_module_type"], kw["motion_module_kwargs"])
        for _ in range(count)
    )


class DownBlock3D(_CheckpointingBlock):
    """``num_layers`` resnets (+ transformers if cross-attention), then an optional stride-2 conv."""

    has_cross_attention = False

    def __init__(self, in_channels: int, out_channels: int, num_layers: int, add_downsample: bool, **kw):
        super().__init__()
        self.resnets = nn.ModuleList(
            _resnet(in_channels if i == 0 else out_channels, out_channels, kw) for i in range(num_layers)
        )
        if self.has_cross_attention:
            self.attentions = nn.ModuleList(_transformer(out_channels, kw) for _ in range(num_layers))
        self.motion_modules = _motion_modules(out_channels, num_layers, kw)
        self.downsamplers = None
        if add_downsample:
            self.downsamplers = nn.ModuleList(
                [Downsample3D(out_channels, out_channels, padding=kw.get("downsample_padding", 1))]
            )

    def forward(
        self,
        hidden_states: torch.Tensor,
        temb: torch.Tensor,
        encoder_hidden_states: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        outputs: tuple[torch.Tensor, ...] = ()
        attentions = self.attentions if self.has_cross_attention else [None] * len(self.resnets)
        for resnet, attention, motion in zip(self.resnets, attentions, self.motion_modules):
            hidden_states = self._run(resnet, hidden_states, temb)
            if attention is not None:
                hidden_states = self._run(attention, hidden_states, encoder_hidden_states)
            if motion is not None:
                hidden_states = self._run(motion, hidden_states)
            outputs += (hidden_states,)
        if self.downsamplers is not None:
            for downsampler in self.downsamplers:
                hidden_states = downsampler(hidden_states)
            outputs += (hidden_states,)
        return hidden_states, outputs


class CrossAttnDownBlock3D(DownBlock3D):
    has_cross_attention = True


class UpBlock3D(_CheckpointingBlock):
    """Each layer concatenates one skip connection, then resnet (+ transformer) (+ motion module)."""

    has_cross_attention = False

    def __init__(
        self,
        in_channels: int,
        prev_output_channel: int,
        out_channels: int,
        num_layers: int,
        add_upsample: bool,
        **kw,
    ):
        super().__init__()
        resnets = []
        for i in range(num_layers):
            skip_channels = in_channels if i == num_layers - 1 else out_channels
            resnet_in = prev_output_channel if i == 0 else out_channels
            resnets.append(_resnet(resnet_in + skip_channels, out_channels, kw))
        self.resnets = nn.ModuleList(resnets)
        if self.has_cross_attention:
            self.attentions = nn.ModuleList(_transformer(out_channels, kw) for _ in range(num_layers))
        self.motion_modules = _motion_modules(out_channels, num_layers, kw)
        self.upsamplers = nn.ModuleList([Upsample3D(out_channels, out_channels)]) if add_upsample else None

    def layer(
        self,
        index: int,
        hidden_states: torch.Tensor,
        skip: torch.Tensor,
        temb: torch.Tensor,
        encoder_hidden_states: torch.Tensor | None,
    ) -> torch.Tensor:
        hidden_states = torch.cat([hidden_states, skip], dim=1)
        hidden_states = self._run(self.resnets[index], hidden_states, temb)
        if self.has_cross_attention:
            hidden_states = self._run(self.attentions[index], hidden_states, encoder_hidden_states)
        motion = self.motion_modules[index]
        if motion is not None:
            hidden_states = self._run(motion, hidden_states)
        return hidden_states

    def upsample(self, hidden_states: torch.Tensor, upsample_size: tuple[int, ...] | None) -> torch.Tensor:
        if self.upsamplers is not None:
            for upsampler in self.upsamplers:
                hidden_states = upsampler(hidden_states, upsample_size)
        return hidden_states

    def forward(
        self,
        hidden_states: torch.Tensor,
        res_hidden_states_tuple: tuple[torch.Tensor, ...],
        temb: torch.Tensor,
        encoder_hidden_states: torch.Tensor | None = None,
        upsample_size: tuple[int, ...] | None = None,
    ) -> torch.Tensor:
        """Skips are consumed last-first: ``res_hidden_states_tuple[-1]`` feeds layer 0."""
        for index in range(len(self.resnets)):
            hidden_states = self.layer(
                index, hidden_states, res_hidden_states_tuple[-1 - index], temb, encoder_hidden_states
            )
        return self.upsample(hidden_states, upsample_size)


class CrossAttnUpBlock3D(UpBlock3D):
    has_cross_attention = True


class UNetMidBlock3DCrossAttn(_CheckpointingBlock):
    """resnet, then ``num_layers`` x (transformer, optional motion module, resnet)."""

    def __init__(self, in_channels: int, num_layers: int = 1, output_scale_factor: float = 1.0, **kw):
        super().__init__()
        self.resnets = nn.ModuleList(
            _resnet(in_channels, in_channels, kw, output_scale_factor) for _ in range(num_layers + 1)
        )
        self.attentions = nn.ModuleList(_transformer(in_channels, kw) for _ in range(num_layers))
        self.motion_modules = _motion_modules(in_channels, num_layers, kw)

    def forward(
        self,
        hidden_states: torch.Tensor,
        temb: torch.Tensor,
        encoder_hidden_states: torch.Tensor | None = None,
    ) -> torch.Tensor:
        hidden_states = self._run(self.resnets[0], hidden_states, temb)
        for attention, motion, resnet in zip(self.attentions, self.motion_modules, self.resnets[1:]):
            hidden_states = self._run(attention, hidden_states, encoder_hidden_states)
            if motion is not None:
                hidden_states = self._run(motion, hidden_states)
            hidden_states = self._run(resnet, hidden_states, temb)
        return hidden_states


DOWN_BLOCKS = {"DownBlock3D": DownBlock3D, "CrossAttnDownBlock3D": CrossAttnDownBlock3D}
UP_BLOCKS = {"UpBlock3D": UpBlock3D, "CrossAttnUpBlock3D": CrossAttnUpBlock3D}


def get_down_block(block_type: str, **kw) -> DownBlock3D:
    name = block_type.removeprefix("UNetRes")
    if name not in DOWN_BLOCKS:
        raise ValueError(f"unknown down block type '{block_type}' (use one of {', '.join(DOWN_BLOCKS)})")
    return DOWN_BLOCKS[name](**kw)


def get_up_block(block_type: str, **kw) -> UpBlock3D:
    name = block_type.removeprefix("UNetRes")
    if name not in UP_BLOCKS:
        raise ValueError(f"unknown up block type '{block_type}' (use one of {', '.join(UP_BLOCKS)})")
    return UP_BLOCKS[name](**kw)
