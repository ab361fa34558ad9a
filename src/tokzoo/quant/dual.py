"""Dual-codebook VQ: one shared index selects a (semantic, pixel) pair of codes.

Method: "TokenFlow: Unified Image Tokenizer for Multimodal Understanding and Generation" (Qu et al., 2024).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from tokzoo.core.errors import ConfigError
from tokzoo.quant.base import Quantizer, QuantOut, codebook_stats, safe_mse
from tokzoo.quant.registry import register_quantizer


@register_quantizer("dual")
class DualCodebookVQ(Quantizer):
    """Shared-index dual codebook ("TokenFlow: Unified Image Tokenizer for Multimodal Understanding and
    Generation", Qu et al., 2024).

    The input is the concatenation ``z = [z_sem, z_pix]`` with ``split = (d_sem, d_pix)``. Two codebooks
    (``K x d_sem`` and ``K x d_pix``) share their index: id ``i`` minimises
    ``w_sem * ||z_sem - c_sem[i]||^2 + w_pix * ||z_pix - c_pix[i]||^2``. The latents are the concatenated
    pair (straight-through gradient to ``z``); the loss is the weighted sum over both branches of the codebook
    loss plus ``beta`` times the commitment loss. No dead-code restarts.

    Args:
        dim: ``d_sem + d_pix``.
        split: ``(d_sem, d_pix)``; default splits ``dim`` in halves.
        codebook_size: ``K``, shared by both codebooks.
        weights: ``(w_sem, w_pix)`` for the distance and the losses.
        beta: commitment loss weight.
    """

    def __init__(
        self,
        dim: int,
        codebook_size: int = 1024,
        *,
        split: Sequence[int] | None = None,
        weights: Sequence[float] = (1.0, 1.0),
        beta: float = 0.25,
    ) -> None:
        super().__init__()
        split = tuple(split) if split is not None else (dim // 2, dim - dim // 2)
        if len(split) != 2 or sum(split) != dim or min(split) < 1:
            raise ConfigError(f"split must be two positive sizes summing to dim={dim}, got {split}")
        if len(weights) != 2 or min(weights) < 0:
            raise ConfigError(f"weights must be two non-negative numbers, got {tuple(weights)}")
        self.dim = dim
        self.split = split
        self.weights = (float(weights[0]), float(weights[1]))
        self.codebook_size = codebook_size
        self.beta = beta
        self.sem_codebook = nn.Embedding(codebook_size, split[0])
        self.pix_codebook = nn.Embedding(codebook_size, split[1])
        nn.init.normal_(self.sem_codebook.weight)
        nn.init.normal_(self.pix_codebook.weight)

    def distances(self, z: torch.Tensor) -> torch.Tensor:
        """Weighted squared distances ``[N, K]`` of flat ``z[N, dim]`` to every code pair."""
        z_sem, z_pix = z.split(self.split, dim=-1)
        total = z.new_zeros(z.shape[0], self.codebook_size)
        for w, x, cb in (
            (self.weights[0], z_sem, self.sem_codebook),
            (self.weights[1], z_pix, self.pix_codebook),
        ):
            c = cb.weight
            d = x.pow(2).sum(1, keepdim=True) - 2 * x @ c.t() + c.pow(2).sum(1)[None, :]
            total = total + w * d
        return total

    def forward(self, z: torch.Tensor) -> QuantOut:
        with torch.autocast(device_type=z.device.type, enabled=False):
            return self._quantize(z.float())

    def _quantize(self, z: torch.Tensor) -> QuantOut:
        flat = z.reshape(-1, self.dim)
        ids = self.distances(flat.detach()).argmin(dim=1)
        q = self._lookup(ids)
        loss = z.new_zeros(())
        stats = codebook_stats(ids, self.codebook_size)
        for name, w, x, c in zip(
            ("sem", "pix"), self.weights, flat.split(self.split, -1), q.split(self.split, -1), strict=True
        ):
            codebook_loss = safe_mse(c, x.detach())
            loss = loss + w * (codebook_loss + self.beta * safe_mse(x, c.detach()))
            stats[f"mse_{name}"] = codebook_loss.detach()
        q = flat + (q - flat).detach()
        return QuantOut(q.view_as(z), ids.view(z.shape[:-1]), loss, stats)

    def _lookup(self, ids: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.sem_codebook(ids), self.pix_codebook(ids)], dim=-1)

    def ids_to_latents(self, ids: torch.Tensor) -> torch.Tensor:
        """ids -> ``[..., d_sem + d_pix]``, the concatenated (semantic, pixel) code pair."""
        return self._lookup(ids)
