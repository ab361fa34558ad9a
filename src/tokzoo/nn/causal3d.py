"""Causal 3-D convolutional blocks for video: the time axis is padded on the past side only, so an output frame
never sees a later input frame, and the first frame is coded alone.

The design follows "Language Model Beats Diffusion — Tokenizer is Key to Visual Generation" (MAGVIT-v2, Yu et
al., 2023) and "Cosmos World Foundation Model Platform for Physical AI" (Cosmos Tokenizer, NVIDIA, 2024): causal
3-D convolutions, temporal downsampling that maps ``1 + f·k`` frames to ``1 + k`` latent frames, and a
normalisation computed per frame (a group norm over the whole clip would let later frames change the statistics
of earlier ones). The modules mirror :mod:`tokzoo.nn.conv` layer for layer and parameter name for parameter name,
with 5-D kernels where the image blocks have 4-D ones, so a 2-D image model's weights inflate into them
(``inflate_state_dict``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from tokzoo.nn.checkpointing import Checkpointable


class FrameGroupNorm(nn.GroupNorm):
    """Group norm over (C, H, W) of each frame of a (B, C, T, H, W) tensor: no statistic crosses frames."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, t, h, w = x.shape
        y = super().forward(x.transpose(1, 2).reshape(b * t, c, h, w))
        return y.reshape(b, t, c, h, w).transpose(1, 2)


def _norm(ch: int) -> FrameGroupNorm:
    return FrameGroupNorm(num_groups=min(32, ch // 4) if ch >= 8 else 1, num_channels=ch, eps=1e-6)


class CausalConv3d(nn.Conv3d):
    """A 3-D convolution padded ``kt - 1`` frames (zeros) in the past and none in the future; space is padded
    ``k // 2`` on each side. With temporal stride 2 it maps ``1 + 2k`` frames to ``1 + k``, frame 0 alone."""

    def __init__(
        self, in_ch: int, out_ch: int, kernel: int, stride: tuple[int, int, int] = (1, 1, 1)
    ) -> None:
        super().__init__(in_ch, out_ch, kernel, stride=stride, padding=(0, kernel // 2, kernel // 2))
        self.time_pad = kernel - 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(F.pad(x, (0, 0, 0, 0, self.time_pad, 0)))


class CausalResBlock3d(Checkpointable):
    """norm → SiLU → causal conv 3×3×3, twice, plus a (1×1×1-projected when needed) skip connection."""

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.block = nn.Sequential(
            _norm(in_ch), nn.SiLU(), CausalConv3d(in_ch, out_ch, 3),
            _norm(out_ch), nn.SiLU(), CausalConv3d(out_ch, out_ch, 3),
        )  # fmt: skip
        self.skip = CausalConv3d(in_ch, out_ch, 1) if in_ch != out_ch else nn.Identity()

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.skip(x) + self.block(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.run(self._forward, x)


class CausalDownsample3d(nn.Module):
    """Halve H and W (and T when ``temporal``: ``1 + 2k`` → ``1 + k`` frames) with a strided causal conv."""

    def __init__(self, ch: int, temporal: bool) -> None:
        super().__init__()
        self.conv = CausalConv3d(ch, ch, 3, stride=(2 if temporal else 1, 2, 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class CausalUpsample3d(nn.Module):
    """Double H and W (nearest) and, when ``temporal``, map ``1 + k`` frames to ``1 + 2k``; then a causal conv
    mixes. Time mode ``nearest``: each frame repeated twice, then the first copy of frame 0 dropped (output frame
    2j - 1 and 2j both copy latent frame j). ``linear``: frame 2j copies latent frame j and frame 2j - 1 is the
    mean of frames j - 1 and j, so a key-frame code is interpolated, never held. Either way output frame 0 comes
    from latent frame 0 alone and no output frame reads a later latent frame than the one it belongs to."""

    def __init__(self, ch: int, temporal: bool, time_mode: str = "nearest") -> None:
        super().__init__()
        if time_mode not in TIME_MODES:
            raise ValueError(f"temporal upsampling must be one of {TIME_MODES}, got {time_mode!r}")
        self.temporal = temporal
        self.time_mode = time_mode
        self.conv = CausalConv3d(ch, ch, 3)

    def _time(self, x: torch.Tensor) -> torch.Tensor:
        if self.time_mode == "nearest":
            return x.repeat_interleave(2, dim=2)[:, :, 1:]
        b, c, t, h, w = x.shape
        out = x.new_empty(b, c, 2 * t - 1, h, w)
        out[:, :, 0::2] = x
        out[:, :, 1::2] = (x[:, :, :-1] + x[:, :, 1:]) / 2
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=(1.0, 2.0, 2.0), mode="nearest")
        return self.conv(self._time(x) if self.temporal else x)


TIME_MODES = ("nearest", "linear")


def _temporal_levels(levels: int, temporal_downs: int) -> list[bool]:
    """Which of the ``levels`` resolution changes also change time: the first ``temporal_downs`` (the highest
    spatial resolutions, where per-frame work costs most)."""
    return [i < temporal_downs for i in range(levels)]


class CausalEncoder3d(nn.Module):
    """Clip (B, in_ch, 1 + f_t·k, H, W) → latents (B, z_ch, 1 + k, H/f, W/f), f = 2 ** (len(ch_mult) - 1),
    f_t = 2 ** temporal_downs; the layer layout of :class:`tokzoo.nn.conv.ConvEncoder`."""

    def __init__(
        self, in_ch: int, ch: int, ch_mult: Sequence[int], num_res_blocks: int, z_ch: int, temporal_downs: int
    ) -> None:
        super().__init__()
        temporal = _temporal_levels(len(ch_mult) - 1, temporal_downs)
        layers: list[nn.Module] = [CausalConv3d(in_ch, ch * ch_mult[0], 3)]
        cur = ch * ch_mult[0]
        for i, m in enumerate(ch_mult):
            for _ in range(num_res_blocks):
                layers.append(CausalResBlock3d(cur, ch * m))
                cur = ch * m
            if i < len(ch_mult) - 1:
                layers.append(CausalDownsample3d(cur, temporal[i]))
        layers += [CausalResBlock3d(cur, cur), _norm(cur), nn.SiLU(), CausalConv3d(cur, z_ch, 3)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class CausalDecoder3d(nn.Module):
    """Latents (B, z_ch, 1 + k, h, w) → clip (B, out_ch, 1 + f_t·k, h·f, w·f), mirroring ``CausalEncoder3d``
    (the layer layout of :class:`tokzoo.nn.conv.ConvDecoder`); ``time_mode`` is the temporal upsampling's
    (:class:`CausalUpsample3d`)."""

    def __init__(
        self,
        out_ch: int,
        ch: int,
        ch_mult: Sequence[int],
        num_res_blocks: int,
        z_ch: int,
        temporal_downs: int,
        time_mode: str = "nearest",
    ) -> None:
        super().__init__()
        temporal = _temporal_levels(len(ch_mult) - 1, temporal_downs)
        cur = ch * ch_mult[-1]
        layers: list[nn.Module] = [CausalConv3d(z_ch, cur, 3), CausalResBlock3d(cur, cur)]
        for i, m in reversed(list(enumerate(ch_mult))):
            for _ in range(num_res_blocks + 1):
                layers.append(CausalResBlock3d(cur, ch * m))
                cur = ch * m
            if i > 0:
                layers.append(CausalUpsample3d(cur, temporal[i - 1], time_mode))
        layers += [_norm(cur), nn.SiLU(), CausalConv3d(cur, out_ch, 3)]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


def inflate_state_dict(
    image_state: Mapping[str, torch.Tensor], video_state: Mapping[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """Inflate 2-D image weights into the 3-D video state ``video_state`` (same names): each 4-D kernel
    (O, I, kh, kw) becomes the last (current-frame) temporal tap of the 5-D kernel (O, I, kt, kh, kw), the
    earlier taps zero, so the inflated model applies the image model to every frame it keeps; every other
    tensor is copied. A missing name or a shape that does not match raises ``ValueError``."""
    out: dict[str, torch.Tensor] = {}
    for name, target in video_state.items():
        if name not in image_state:
            raise ValueError(f"inflate: the image weights have no {name!r}")
        source = image_state[name]
        if source.ndim == 4 and target.ndim == 5 and source.shape == target.shape[:2] + target.shape[3:]:
            kernel = torch.zeros_like(target)
            kernel[:, :, -1] = source
            out[name] = kernel
        elif source.shape == target.shape:
            out[name] = source.clone()
        else:
            raise ValueError(
                f"inflate: {name!r} has shape {tuple(source.shape)} in the image weights, "
                f"{tuple(target.shape)} in the video model"
            )
    return out
