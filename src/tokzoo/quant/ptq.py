"""Post-training, dimension-wise scalar quantization of a trained continuous latent space.

Method: "Bridging Continuous and Discrete Tokens for Autoregressive Visual Generation" (TokenBridge, Wang et
al., 2025): discretise each channel of a frozen continuous tokenizer independently, without retraining.
"""

from __future__ import annotations

import math

import torch

from tokzoo.core.errors import TokzooError
from tokzoo.quant.base import Quantizer, QuantOut, codebook_stats
from tokzoo.quant.registry import register_quantizer


class NotFittedError(TokzooError, RuntimeError):
    """A post-training quantizer was used before ``fit``."""


@register_quantizer("ptq")
class PostTrainingQuantizer(Quantizer):
    """Per-dimension quantile quantizer ("Bridging Continuous and Discrete Tokens for Autoregressive Visual
    Generation", Wang et al., 2025).

    TokenBridge places a non-uniform grid following the Gaussian quantiles of the normalised latents. Here the
    grid follows the empirical distribution of each dimension instead (which is the Gaussian grid when the
    latents are Gaussian): ``fit`` puts the ``bins - 1`` inner edges at the equal-probability quantiles
    ``j / bins`` and reconstructs each bin by the conditional mean of the fitted values inside it (the
    least-squares value for that cell; a bin left empty by ties gets its lower edge). Because the quantile
    edges of ``bins`` are a subset of those of ``m * bins`` and cells use conditional means, the fitted MSE
    never grows when the bin count is multiplied.

    ``forward`` maps every dimension to its bin: ``ids[..., D]`` in ``[0, bins)``; ``codebook_size`` is
    ``bins`` (per dimension) and ``bits_per_token`` is ``D * log2(bins)``. Latents use a straight-through
    gradient; the loss is zero (there is nothing to train). ``forward``/``ids_to_latents`` before ``fit``
    raise :class:`NotFittedError`.

    Args:
        dim: channel size ``D`` of the latents.
        bins: levels per dimension.
    """

    token_kind = "depth"  # one id per latent dimension
    post_training = True

    def __init__(self, dim: int, bins: int = 64) -> None:
        super().__init__()
        if bins < 2:
            raise ValueError(f"bins must be >= 2, got {bins}")
        self.dim = dim
        self.bins = bins
        self.codebook_size = bins
        self.register_buffer("edges", torch.zeros(dim, bins - 1))
        self.register_buffer("centres", torch.zeros(dim, bins))
        self.register_buffer("fitted", torch.zeros((), dtype=torch.bool))

    @property
    def bits_per_token(self) -> float:
        """``dim * log2(bins)`` bits per position."""
        return self.dim * math.log2(self.bins)

    @torch.no_grad()
    def fit(self, latents: torch.Tensor) -> PostTrainingQuantizer:
        """Choose edges and centres from ``latents[..., D]`` (at least ``bins`` rows); returns self."""
        flat = latents.detach().float().reshape(-1, self.dim)
        n = flat.shape[0]
        if n < self.bins:
            raise ValueError(f"fit needs at least bins={self.bins} latents, got {n}")
        ordered = flat.sort(dim=0).values  # (N, D)
        pos = torch.tensor([(j * n) // self.bins for j in range(1, self.bins)], device=flat.device)
        edges = ordered[pos].t().contiguous()  # (D, bins - 1)
        ids = self._bucketize(flat, edges)  # (N, D)
        sums = flat.new_zeros(self.dim, self.bins).scatter_add_(1, ids.t(), flat.t())
        counts = flat.new_zeros(self.dim, self.bins).scatter_add_(1, ids.t(), torch.ones_like(flat.t()))
        lower = torch.cat([ordered[:1].t(), edges], dim=1)  # fallback for empty bins
        centres = torch.where(counts > 0, sums / counts.clamp_min(1), lower)
        self.edges.copy_(edges)
        self.centres.copy_(centres)
        self.fitted.fill_(True)
        return self

    @staticmethod
    def _bucketize(flat: torch.Tensor, edges: torch.Tensor) -> torch.Tensor:
        # Bin b holds values in (edges[b-1], edges[b]]; searchsorted batches over the leading (D) dim.
        return torch.searchsorted(edges, flat.t().contiguous()).t()

    @property
    def is_fitted(self) -> bool:
        """Whether ``fit`` has chosen the bins (saved with the weights)."""
        return bool(self.fitted)

    def _require_fit(self) -> None:
        if not self.is_fitted:
            raise NotFittedError("PostTrainingQuantizer must be fit(latents) before use")

    def forward(self, z: torch.Tensor) -> QuantOut:
        self._require_fit()
        with torch.autocast(device_type=z.device.type, enabled=False):
            zf = z.float()
            flat = zf.reshape(-1, self.dim)
            ids = self._bucketize(flat.detach(), self.edges)
            q = self.ids_to_latents(ids).view_as(zf)
            stats = codebook_stats(ids, self.bins)
            stats["mse"] = (q - zf).detach().pow(2).mean()
            latents = zf + (q - zf).detach()
            return QuantOut(latents, ids.view(zf.shape), zf.new_zeros(()), stats)

    def ids_to_latents(self, ids: torch.Tensor) -> torch.Tensor:
        """``ids[..., D]`` -> the bin centres ``[..., D]``."""
        self._require_fit()
        if ids.shape[-1] != self.dim:
            raise ValueError(f"ptq needs all {self.dim} per-dimension ids of a position, got {ids.shape[-1]}")
        flat = ids.reshape(-1, self.dim)
        return self.centres.t().gather(0, flat).view(ids.shape)
