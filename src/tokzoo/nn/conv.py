"""Convolutional building blocks in the style of the VQGAN encoder/decoder.

"Taming Transformers for High-Resolution Image Synthesis" (Esser et al., 2021): residual blocks with group
norm and SiLU, strided-conv downsampling, nearest-neighbour upsampling followed by a convolution.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from tokzoo.nn.checkpointing import Checkpointable


def _norm(ch: int) -> nn.GroupNorm:
    return nn.GroupNorm(num_groups=min(32, ch // 4) if ch >= 8 else 1, num_channels=ch, eps=1e-6)


class ResBlock(Checkpointable):
    """norm → SiLU → conv3x3, twice, plus a (1x1-projected when needed) skip connection."""

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.block = nn.Sequential(
            _norm(in_ch), nn.SiLU(), nn.Conv2d(in_ch, out_ch, 3, padding=1),
            _norm(out_ch), nn.SiLU(), nn.Conv2d(out_ch, out_ch, 3, padding=1),
        )  # fmt: skip
        self.skip = nn.Conv2d(in_ch, out_ch, 1) if in_ch != out_ch else nn.Identity()

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.skip(x) + self.block(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.run(self._forward, x)


class Downsample(nn.Module):
    """Halve the resolution with a stride-2 3x3 convolution."""

    def __init__(self, ch: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class Upsample(nn.Module):
    """Double the resolution (nearest) and mix with a 3x3 convolution."""

    def __init__(self, ch: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(nn.functional.interpolate(x, scale_factor=2.0, mode="nearest"))


class ConvEncoder(nn.Module):
    """Image (B, in_ch, H, W) → latent grid (B, z_ch, H/f, W/f) with f = 2 ** (len(ch_mult) - 1)."""

    def __init__(self, in_ch: int, ch: int, ch_mult: Sequence[int], num_res_blocks: int, z_ch: int) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(in_ch, ch * ch_mult[0], 3, padding=1)]
        cur = ch * ch_mult[0]
        for i, m in enumerate(ch_mult):
            for _ in range(num_res_blocks):
                layers.append(ResBlock(cur, ch * m))
                cur = ch * m
            if i < len(ch_mult) - 1:
                layers.append(Downsample(cur))
        layers += [ResBlock(cur, cur), _norm(cur), nn.SiLU(), nn.Conv2d(cur, z_ch, 3, padding=1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class ConvDecoder(nn.Module):
    """Latent grid (B, z_ch, h, w) → image (B, out_ch, h*f, w*f), mirroring ``ConvEncoder``."""

    def __init__(self, out_ch: int, ch: int, ch_mult: Sequence[int], num_res_blocks: int, z_ch: int) -> None:
        super().__init__()
        cur = ch * ch_mult[-1]
        layers: list[nn.Module] = [nn.Conv2d(z_ch, cur, 3, padding=1), ResBlock(cur, cur)]
        for i, m in reversed(list(enumerate(ch_mult))):
            for _ in range(num_res_blocks + 1):
                layers.append(ResBlock(cur, ch * m))
                cur = ch * m
            if i > 0:
                layers.append(Upsample(cur))
        layers += [_norm(cur), nn.SiLU(), nn.Conv2d(cur, out_ch, 3, padding=1)]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)
