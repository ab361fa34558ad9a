"""``TriplaneField``: latent tokens -> three axis-aligned feature planes -> a distance at any 3-D point.

VAT ("3D Representation in 512-Byte: Variational Tokenizer is the Key for Autoregressive 3D Generation",
2024/2025) decodes its 1-D tokens into a triplane (the factorisation of EG3D, "Efficient Geometry-aware 3D
Generative Adversarial Networks", Chan et al., 2022) read by a small MLP. Here: ``3 * g * g`` learned plane
queries attend the latent tokens in one transformer; each query becomes a ``patch x patch`` tile of
``channels`` features of its plane (``res = g * patch`` texels a side); a point's features are bilinear samples
of the xy, xz and yz planes, concatenated, and the MLP gives an unsigned distance (softplus, >= 0).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from tokzoo.nn.transformer import Transformer
from tokzoo.points.embed import mlp

__all__ = ["TriplaneField"]

_PLANES = ((0, 1), (0, 2), (1, 2))  # xy, xz, yz


class TriplaneField(nn.Module):
    """Planes from (B, K, dim) latent tokens; ``distance(planes, xyz)`` at (B, Q, 3) points in [-1, 1]^3."""

    def __init__(
        self,
        dim: int,
        depth: int,
        heads: int,
        res: int = 32,
        patch: int = 4,
        channels: int = 32,
        hidden: int = 64,
    ) -> None:
        super().__init__()
        if res % patch:
            raise ValueError(f"triplane: res {res} must be a multiple of patch {patch}")
        self.g, self.patch, self.channels = res // patch, patch, channels
        self.queries = nn.Parameter(torch.randn(3 * self.g * self.g, dim) * 0.02)
        self.transformer = Transformer(dim, depth, heads)
        self.to_tiles = nn.Linear(dim, channels * patch * patch)
        self.mlp = mlp(3 * channels, hidden, hidden, 1)

    def planes(self, latents: torch.Tensor) -> torch.Tensor:
        """(B, 3, channels, res, res) from (B, K, dim) latent tokens (already embedded)."""
        b, k = latents.shape[:2]
        h = torch.cat([latents, self.queries.expand(b, -1, -1)], 1)
        tiles = self.to_tiles(self.transformer(h)[:, k:])
        g, p, c = self.g, self.patch, self.channels
        tiles = tiles.reshape(b, 3, g, g, c, p, p).permute(0, 1, 4, 2, 5, 3, 6)
        return tiles.reshape(b, 3, c, g * p, g * p)

    def distance(self, planes: torch.Tensor, xyz: torch.Tensor) -> torch.Tensor:
        """(B, Q) unsigned distances at (B, Q, 3) points (coordinates outside [-1, 1] read the border)."""
        feats = []
        for i, (a, b) in enumerate(_PLANES):
            uv = xyz[..., [a, b]].clamp(-1, 1)[:, :, None]  # (B, Q, 1, 2): grid_sample's (x, y) = (u, v)
            f = F.grid_sample(planes[:, i], uv, mode="bilinear", padding_mode="border", align_corners=False)
            feats.append(f[..., 0].transpose(1, 2))  # (B, Q, C)
        return F.softplus(self.mlp(torch.cat(feats, -1))[..., 0])
