"""Plain vector quantization with a straight-through estimator.

Methods: "Neural Discrete Representation Learning" (van den Oord et al., 2017) for the nearest-code lookup,
codebook and commitment losses; "Vector-quantized Image Modeling with Improved VQGAN" (Yu et al., 2022) for
the optional low-dimensional lookup and l2-normalised (cosine) codes, which keep far more codes alive.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from tokzoo.quant.base import QuantOut, Quantizer, codebook_stats


class VectorQuantizer(Quantizer):
    """Nearest-neighbour VQ over ``codebook_size`` codes.

    Args:
        dim: channel size of the input ``z[..., dim]``.
        codebook_size: number of codes.
        code_dim: lookup dimension; when it differs from ``dim`` the input is projected down before the
            lookup and the code projected back up (factorised codes).
        normalize: l2-normalise inputs and codes before the lookup (cosine similarity).
        beta: commitment loss weight.
    """

    def __init__(
        self, dim: int, codebook_size: int, *, code_dim: int | None = None, normalize: bool = True, beta: float = 0.25
    ) -> None:
        super().__init__()
        code_dim = code_dim or dim
        self.codebook_size = codebook_size
        self.normalize = normalize
        self.beta = beta
        self.proj_in = nn.Linear(dim, code_dim) if code_dim != dim else nn.Identity()
        self.proj_out = nn.Linear(code_dim, dim) if code_dim != dim else nn.Identity()
        self.codebook = nn.Embedding(codebook_size, code_dim)
        nn.init.uniform_(self.codebook.weight, -1.0 / codebook_size, 1.0 / codebook_size)
        if normalize:
            nn.init.normal_(self.codebook.weight)

    def _codes(self) -> torch.Tensor:
        w = self.codebook.weight
        return F.normalize(w, dim=-1) if self.normalize else w

    def forward(self, z: torch.Tensor) -> QuantOut:
        h = self.proj_in(z)
        if self.normalize:
            h = F.normalize(h, dim=-1)
        flat = h.reshape(-1, h.shape[-1])
        codes = self._codes()
        # ||h - c||^2 = ||h||^2 - 2 h·c + ||c||^2; the first term does not change the argmin.
        dist = codes.pow(2).sum(1)[None, :] - 2 * flat @ codes.t()
        ids = dist.argmin(dim=1)
        q = codes[ids].view_as(h)
        loss = F.mse_loss(q, h.detach()) + self.beta * F.mse_loss(h, q.detach())
        q = h + (q - h).detach()  # straight-through gradient to the encoder
        stats = codebook_stats(ids, self.codebook_size)
        return QuantOut(self.proj_out(q), ids.view(h.shape[:-1]), loss, stats)

    def ids_to_latents(self, ids: torch.Tensor) -> torch.Tensor:
        return self.proj_out(self._codes()[ids])
