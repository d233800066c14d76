"""LatentSync's UNet3DConditionModel: SD-1.5 UNet inflated to video, conditioned on audio.

Input is [B, 13, F, H, W] (noisy latents, mask, masked-image latents, reference latents);
audio features come per frame as ``encoder_hidden_states`` [B*F, 50, 384]. The state-dict
keys are those of the published checkpoints, so their weights load unchanged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.embeddings import TimestepEmbedding, Timesteps
from diffusers.models.modeling_utils import ModelMixin
from diffusers.utils import BaseOutput
from torch import nn

from latentsync.models.resnet3d import FrameConv2d, make_group_norm
from latentsync.models.unet_blocks import UNetMidBlock3DCrossAttn, UpBlock3D, get_down_block, get_up_block

logger = logging.getLogger(__name__)


@dataclass
class UNet3DConditionOutput(BaseOutput):
    sample: torch.Tensor


def _per_block(value: Any, count: int) -> tuple:
    return tuple(value) if isinstance(value, (list, tuple)) else (value,) * count


class UNet3DConditionModel(ModelMixin, ConfigMixin):
    """Config keys are those of the original's ``model`` section (see ``configs/unet/*.yaml``).

    ``attention_head_dim`` is, as in SD-1.5 configs, the number of heads per block.
    """

    _supports_gradient_checkpointing = True

    @register_to_config
    def __init__(
        self,
        sample_size: int | None = None,
        in_channels: int = 4,
        out_channels: int = 4,
        center_input_sample: bool = False,
        flip_sin_to_cos: bool = True,
        freq_shift: int = 0,
        down_block_types: tuple[str, ...] = (
            "CrossAttnDownBlock3D",
            "CrossAttnDownBlock3D",
            "CrossAttnDownBlock3D",
            "DownBlock3D",
        ),
        mid_block_type: str = "UNetMidBlock3DCrossAttn",
        up_block_types: tuple[str, ...] = (
            "UpBlock3D",
            "CrossAttnUpBlock3D",
            "CrossAttnUpBlock3D",
            "CrossAttnUpBlock3D",
        ),
        only_cross_attention: bool = False,
        block_out_channels: tuple[int, ...] = (320, 640, 1280, 1280),
        layers_per_block: int = 2,
        downsample_padding: int = 1,
        mid_block_scale_factor: float = 1,
        act_fn: str = "silu",
        norm_num_groups: int = 32,
        norm_eps: float = 1e-5,
        cross_attention_dim: int = 1280,
        attention_head_dim: int | tuple[int, ...] = 8,
        dual_cross_attention: bool = False,
        use_linear_projection: bool = False,
        class_embed_type: str | None = None,
        num_class_embeds: int | None = None,
        upcast_attention: bool = False,
        resnet_time_scale_shift: str = "default",
        use_inflated_groupnorm: bool = False,
        use_motion_module: bool = False,
        motion_module_resolutions: tuple[int, ...] = (1, 2, 4, 8),
        motion_module_mid_block: bool = False,
        motion_module_decoder_only: bool = False,
        motion_module_type: str | None = None,
        motion_module_kwargs: dict | None = None,
        add_audio_layer: bool = False,
    ):
        super().__init__()
        if only_cross_attention or dual_cross_attention or class_embed_type or num_class_embeds:
            raise ValueError(
                "only_cross_attention, dual_cross_attention and class embeddings are not used by LatentSync"
            )
        if mid_block_type != "UNetMidBlock3DCrossAttn":
            raise ValueError(f"unknown mid_block_type '{mid_block_type}'")
        if len(down_block_types) != len(block_out_channels) or len(up_block_types) != len(block_out_channels):
            raise ValueError(
                "down_block_types, up_block_types and block_out_channels must have the same length"
            )
        levels = len(block_out_channels)
        heads = _per_block(attention_head_dim, levels)
        time_embed_dim = block_out_channels[0] * 4

        self.conv_in = FrameConv2d(in_channels, block_out_channels[0], kernel_size=3, padding=1)
        self.time_proj = Timesteps(block_out_channels[0], flip_sin_to_cos, freq_shift)
        self.time_embedding = TimestepEmbedding(block_out_channels[0], time_embed_dim)

        common = dict(
            temb_channels=time_embed_dim,
            resnet_eps=norm_eps,
            resnet_act_fn=act_fn,
            resnet_groups=norm_num_groups,
            cross_attention_dim=cross_attention_dim,
            use_linear_projection=use_linear_projection,
            resnet_time_scale_shift=resnet_time_scale_shift,
            use_inflated_groupnorm=use_inflated_groupnorm,
            motion_module_type=motion_module_type,
            motion_module_kwargs=dict(motion_module_kwargs or {}),
            add_audio_layer=add_audio_layer,
        )

        self.down_blocks = nn.ModuleList()
        output_channel = block_out_channels[0]
        for i, block_type in enumerate(down_block_types):
            input_channel, output_channel = output_channel, block_out_channels[i]
            self.down_blocks.append(
                get_down_block(
                    block_type,
                    in_channels=input_channel,
                    out_channels=output_channel,
                    num_layers=layers_per_block,
                    add_downsample=i < levels - 1,
                    downsample_padding=downsample_padding,
                    attn_num_head_channels=heads[i],
                    use_motion_module=use_motion_module
                    and 2**i in motion_module_resolutions
                    and not motion_module_decoder_only,
                    **common,
                )
            )

        self.mid_block = UNetMidBlock3DCrossAttn(
            in_channels=block_out_channels[-1],
            output_scale_factor=mid_block_scale_factor,
            attn_num_head_channels=heads[-1],
            use_motion_module=use_motion_module and motion_module_mid_block,
            **common,
        )

        self.up_blocks = nn.ModuleList()
        reversed_channels = list(reversed(block_out_channels))
        reversed_heads = list(reversed(heads))
        output_channel = reversed_channels[0]
        for i, block_type in enumerate(up_block_types):
            prev_output_channel, output_channel = output_channel, reversed_channels[i]
            self.up_blocks.append(
                get_up_block(
                    block_type,
                    in_channels=reversed_channels[min(i + 1, levels - 1)],
                    prev_output_channel=prev_output_channel,
                    out_channels=output_channel,
                    num_layers=layers_per_block + 1,
                    add_upsample=i < levels - 1,
                    attn_num_head_channels=reversed_heads[i],
                    use_motion_module=use_motion_module
                    and 2 ** (levels - 1 - i) in motion_module_resolutions,
                    **common,
                )
            )
        self.num_upsamplers = levels - 1

        self.conv_norm_out = make_group_norm(
            block_out_channels[0], norm_num_groups, norm_eps, use_inflated_groupnorm
        )
        self.conv_act = nn.SiLU()
        self.conv_out = FrameConv2d(block_out_channels[0], out_channels, kernel_size=3, padding=1)
        # As the original: a new model starts with zero input/output convolutions (SD weights
        # with 4 input channels are not loaded into the 13-channel conv_in).
        for conv in (self.conv_in, self.conv_out):
            nn.init.zeros_(conv.weight)
            nn.init.zeros_(conv.bias)

        # Set by latentsync.models.deepcache.DeepCache; None runs every block.
        self.deep_cache = None

    @property
    def add_audio_layer(self) -> bool:
        return bool(self.config.add_audio_layer)

    @property
    def use_motion_module(self) -> bool:
        return bool(self.config.use_motion_module)

    def time_embed(
        self, timestep: torch.Tensor | float | int, batch: int, device: torch.device
    ) -> torch.Tensor:
        """[batch, 4*C0] embedding; accepts a number, a 0-d tensor, [1] or [batch]."""
        t = torch.as_tensor(timestep, device=device)
        t = t.reshape(-1).expand(batch) if t.numel() == 1 else t.reshape(batch)
        # Timesteps returns float32 whatever the model dtype
        return self.time_embedding(self.time_proj(t).to(dtype=self.dtype))

    def deep_branch(
        self, sample: torch.Tensor, emb: torch.Tensor, encoder_hidden_states: torch.Tensor | None
    ) -> torch.Tensor:
        """Everything between ``conv_in`` and the last layer of the last up block.

        The result is the hidden state that layer concatenates with the ``conv_in`` output;
        DeepCache reuses it across denoising steps.
        """
        upsample_size_needed = any(s % 2**self.num_upsamplers for s in sample.shape[-2:])
        skips: list[torch.Tensor] = [sample]
        hidden = sample
        for block in self.down_blocks:
            hidden, block_skips = block(hidden, emb, encoder_hidden_states)
            skips.extend(block_skips)
        hidden = self.mid_block(hidden, emb, encoder_hidden_states)
        for block in self.up_blocks[:-1]:
            count = len(block.resnets)
            block_skips, skips = tuple(skips[-count:]), skips[:-count]
            size = tuple(skips[-1].shape[2:]) if upsample_size_needed else None
            hidden = block(hidden, block_skips, emb, encoder_hidden_states, upsample_size=size)
        last: UpBlock3D = self.up_blocks[-1]
        for index in range(len(last.resnets) - 1):
            hidden = last.layer(index, hidden, skips[-1 - index], emb, encoder_hidden_states)
        return hidden

    def shallow_branch(
        self,
        deep: torch.Tensor,
        sample: torch.Tensor,
        emb: torch.Tensor,
        encoder_hidden_states: torch.Tensor | None,
    ) -> torch.Tensor:
        """Last layer of the last up block, fed with the deep features and the ``conv_in`` output."""
        last: UpBlock3D = self.up_blocks[-1]
        hidden = last.layer(len(last.resnets) - 1, deep, sample, emb, encoder_hidden_states)
        return last.upsample(hidden, None)

    def forward(
        self,
        sample: torch.Tensor,
        timestep: torch.Tensor | float | int,
        encoder_hidden_states: torch.Tensor | None = None,
        return_dict: bool = True,
    ) -> UNet3DConditionOutput | tuple[torch.Tensor]:
        """``sample`` [B, C, F, H, W]; ``encoder_hidden_states`` [B*F, 50, 384] (or [B, F, 50, 384])."""
        if sample.dim() != 5:
            raise ValueError(f"sample must be [B, C, F, H, W], got shape {tuple(sample.shape)}")
        if self.config.center_input_sample:
            sample = 2 * sample - 1.0
        emb = self.time_embed(timestep, sample.shape[0], sample.device)
        hidden = self.conv_in(sample)
        if self.deep_cache is not None:
            hidden = self.deep_cache.run(self, hidden, emb, encoder_hidden_states)
        else:
            deep = self.deep_branch(hidden, emb, encoder_hidden_states)
            hidden = self.shallow_branch(deep, hidden, emb, encoder_hidden_states)
        out = self.conv_out(self.conv_act(self.conv_norm_out(hidden)))
        if not return_dict:
            return (out,)
        return UNet3DConditionOutput(sample=out)
