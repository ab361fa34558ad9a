"""Vector quantization with a straight-through estimator and dead-code restarts.

Methods: "Neural Discrete Representation Learning" (van den Oord et al., 2017) for the nearest-code lookup,
codebook and commitment losses; "Vector-quantized Image Modeling with Improved VQGAN" (Yu et al., 2022) for
the optional low-dimensional lookup and l2-normalised (cosine) codes; "Jukebox: A Generative Model for Music"
(Dhariwal et al., 2020) for restarting codes that fell out of use with recent encoder outputs.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from tokzoo.quant.base import Quantizer, QuantOut, codebook_stats
from tokzoo.quant.registry import register_quantizer


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


@register_quantizer("vq")
class VectorQuantizer(Quantizer):
    """Nearest-neighbour VQ over ``codebook_size`` codes.

    Args:
        dim: channel size of the input ``z[..., dim]``.
        codebook_size: number of codes.
        code_dim: lookup dimension; when it differs from ``dim`` the input is projected down before the
            lookup and the code projected back up (factorised codes).
        normalize: l2-normalise inputs and codes before the lookup (cosine similarity).
        beta: commitment loss weight.
        restart_decay: decay of the per-code usage average that decides when a code is dead (0 disables restarts).
        restart_threshold: a code whose average count per batch falls below this is replaced, during training,
            by a random encoder output of the current batch. Counts are summed over ranks and the replacements
            broadcast from rank 0, so codebooks stay identical under DDP.
    """

    def __init__(
        self,
        dim: int,
        codebook_size: int,
        *,
        code_dim: int | None = None,
        normalize: bool = True,
        beta: float = 0.25,
        restart_decay: float = 0.9,
        restart_threshold: float = 0.03,
    ) -> None:
        super().__init__()
        code_dim = code_dim or dim
        self.codebook_size = codebook_size
        self.normalize = normalize
        self.beta = beta
        self.restart_decay = restart_decay
        self.restart_threshold = restart_threshold
        self.proj_in = nn.Linear(dim, code_dim) if code_dim != dim else nn.Identity()
        self.proj_out = nn.Linear(code_dim, dim) if code_dim != dim else nn.Identity()
        self.codebook = nn.Embedding(codebook_size, code_dim)
        nn.init.normal_(self.codebook.weight)
        self.register_buffer("usage", torch.ones(codebook_size))

    def _codes(self) -> torch.Tensor:
        w = self.codebook.weight
        return F.normalize(w, dim=-1) if self.normalize else w

    @torch.no_grad()
    def _restart_dead_codes(self, flat: torch.Tensor) -> None:
        dead = (self.usage < self.restart_threshold).nonzero().squeeze(1)
        if dead.numel() == 0:  # identical on every rank: usage is summed over ranks
            return
        pick = torch.randint(0, flat.shape[0], (dead.numel(),), device=flat.device)
        new = (
            flat[pick].clone()
            if flat.shape[0]
            else torch.randn(dead.numel(), flat.shape[1], device=flat.device)
        )
        if _distributed():
            dist.broadcast(new, src=0)
        self.codebook.weight[dead] = new.to(self.codebook.weight.dtype)
        self.usage[dead] = 1.0

    @torch.no_grad()
    def _update_usage(self, ids: torch.Tensor) -> None:
        counts = torch.bincount(ids, minlength=self.codebook_size).float()
        if _distributed():
            dist.all_reduce(counts)
        self.usage.mul_(self.restart_decay).add_(counts, alpha=1 - self.restart_decay)

    def forward(self, z: torch.Tensor) -> QuantOut:
        # Distances and argmin in float32 even under bf16/fp16 autocast: low precision picks wrong codes.
        with torch.autocast(device_type=z.device.type, enabled=False):
            return self._quantize(z.float())

    def _quantize(self, z: torch.Tensor) -> QuantOut:
        h = self.proj_in(z)
        if self.normalize:
            h = F.normalize(h, dim=-1)
        flat = h.reshape(-1, h.shape[-1])
        # Only on the training path: encode() on a model left in train mode must not change the codebook
        # (nor enter a collective that the other ranks never reach).
        restarts = self.training and torch.is_grad_enabled() and self.restart_decay > 0
        if restarts:
            self._restart_dead_codes(flat.detach())
        codes = self._codes()
        # ||h - c||^2 = ||h||^2 - 2 h·c + ||c||^2; the first term does not change the argmin.
        dist_ = codes.pow(2).sum(1)[None, :] - 2 * flat @ codes.t()
        ids = dist_.argmin(dim=1)
        if restarts:
            self._update_usage(ids)
        q = codes[ids].view_as(h)
        loss = F.mse_loss(q, h.detach()) + self.beta * F.mse_loss(h, q.detach())
        q = h + (q - h).detach()  # straight-through gradient to the encoder
        stats = codebook_stats(ids, self.codebook_size)
        return QuantOut(self.proj_out(q), ids.view(h.shape[:-1]), loss, stats)

    def ids_to_latents(self, ids: torch.Tensor) -> torch.Tensor:
        return self.proj_out(self._codes()[ids])
