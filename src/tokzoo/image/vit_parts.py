"""ViT pieces shared by the transformer image tokenizers: patch embedding and pixel head (the query decoder and
the token tables they use are in :mod:`tokzoo.nn.query_decoder`).

Initialisation matters at small scale. Patch positions and mask tokens start as unit-scale 2-D sine-cosine
tables (as in "Masked Autoencoders Are Scalable Vision Learners", He et al., 2022) and learned token tables at
unit scale, not the common ``0.02 * randn``: with tiny position signals every latent first averages all patches
and every mask token receives the same mix, and a CPU-sized model sits for ~1000 steps on a flat-colour
plateau before attention breaks that symmetry (measured in docs/flexible.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from tokzoo.core.errors import ConfigError, DataError
from tokzoo.image.checks import check_image_batch
from tokzoo.nn.transformer import sincos_2d
from tokzoo.quant import QuantizerConfig


@dataclass
class ViTTokenizerConfig(QuantizerConfig):
    """Fields every transformer image tokenizer shares: the bottleneck (:class:`~tokzoo.quant.QuantizerConfig`,
    any quantizer the model accepts), sizes and the loss (64 px CPU defaults)."""

    image_size: int = 64
    patch_size: int = 8
    width: int = 128
    encoder_depth: int = 3
    decoder_depth: int = 3
    heads: int = 4
    mlp_ratio: float = 4.0
    l1_weight: float = 0.5
    in_channels: int = 3

    def check_vit(self, model: str) -> None:
        """Sizes the ViT parts can build: whole patches, whole heads, and a width the 2-D sin-cos tables split."""
        if self.image_size % self.patch_size:
            raise ConfigError(
                f"{model}: image_size {self.image_size} is not a multiple of patch_size {self.patch_size}"
            )
        if self.width % 4 or self.width % self.heads:
            raise ConfigError(
                f"{model}: width {self.width} must be divisible by 4 (2-D sin-cos positions) and by heads "
                f"({self.heads})"
            )


def check_image_size(x: torch.Tensor, *, channels: int, size: int) -> None:
    """A (B, C, size, size) float batch: transformer tokenizers have position tables for one image size."""
    check_image_batch(x, channels=channels, factor=1)
    if tuple(x.shape[-2:]) != (size, size):
        raise DataError(
            f"this tokenizer takes {size}x{size} images, got {x.shape[-2]}x{x.shape[-1]} "
            "(resize or crop first, e.g. `--size`, or create it with image_size=...)"
        )


class PatchEmbed(nn.Module):
    """(B, C, H, W) in [0, 1] → (B, N, width) patch tokens plus learned positions initialised as 2-D sin-cos."""

    def __init__(self, image_size: int, patch_size: int, channels: int, width: int) -> None:
        super().__init__()
        if image_size % patch_size:
            raise ValueError(f"image_size {image_size} is not a multiple of patch_size {patch_size}")
        self.grid = image_size // patch_size
        self.patch_size = patch_size
        self.proj = nn.Conv2d(channels, width, patch_size, stride=patch_size)
        self.pos = nn.Parameter(sincos_2d(self.grid, self.grid, width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x * 2 - 1).flatten(2).transpose(1, 2) + self.pos


class PixelHead(nn.Module):
    """(B, N, width) patch features → (B, C, H, W) image in [0, 1] (unclamped during training)."""

    def __init__(self, grid: int, patch_size: int, channels: int, width: int) -> None:
        super().__init__()
        self.grid, self.patch_size, self.channels = grid, patch_size, channels
        self.proj = nn.Linear(width, channels * patch_size * patch_size)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        b, g, p, c = h.shape[0], self.grid, self.patch_size, self.channels
        y = self.proj(h).view(b, g, g, c, p, p).permute(0, 3, 1, 4, 2, 5).reshape(b, c, g * p, g * p)
        return (y + 1) / 2
