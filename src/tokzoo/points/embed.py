"""Shared model parts of the point tokenizers: MLPs and the mini-PointNet patch embedding (Point-BERT, 2022)."""

from __future__ import annotations

import itertools

import torch
from torch import nn

__all__ = ["PatchEmbed", "mlp"]


def mlp(*sizes: int) -> nn.Sequential:
    """Linear layers with GELU between them (none after the last)."""
    layers: list[nn.Module] = []
    for a, b in itertools.pairwise(sizes):
        layers += [nn.Linear(a, b), nn.GELU()]
    return nn.Sequential(*layers[:-1])


class PatchEmbed(nn.Module):
    """(B, G, k, 3) patch offsets + (B, G, 3) centres -> (B, G, dim): a shared point MLP, mean and max
    pooled, plus an embedding of the centre."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.point = mlp(3, 64, dim)
        self.patch = mlp(2 * dim, dim, dim)
        self.centre = mlp(3, dim, dim)

    def forward(self, patches: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
        h = self.point(patches)
        return self.patch(torch.cat([h.mean(2), h.amax(2)], -1)) + self.centre(centres)
