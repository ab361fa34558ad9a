"""Vector quantization: l2 or cosine codes, low-dimensional lookup, EMA updates, k-means initialisation,
dead-code restarts, straight-through or rotation-trick gradients.

Methods: "Neural Discrete Representation Learning" (van den Oord et al., 2017) for the nearest-code lookup,
codebook/commitment losses and EMA codebook updates; "Vector-quantized Image Modeling with Improved VQGAN"
(Yu et al., 2022) for low-dimensional lookup and l2-normalised (cosine) codes; "Jukebox" (Dhariwal et al.,
2020) for k-means initialisation and restarting dead codes; "Restructuring Vector Quantization with the
Rotation Trick" (Fifty et al., 2024).

Distributed: every collective (usage and EMA all-reduces, broadcasts of k-means centroids and restarted codes)
runs on every rank at the same point of every training step, so codebooks stay identical under DDP.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from tokzoo.quant.base import Quantizer, QuantOut, codebook_stats, distributed
from tokzoo.quant.gradients import rotation_trick, straight_through
from tokzoo.quant.kmeans import kmeans
from tokzoo.quant.registry import register_quantizer


def _all_reduce(t: torch.Tensor) -> torch.Tensor:
    if distributed():
        dist.all_reduce(t)
    return t


def _from_rank0(make: Callable[[], torch.Tensor], shape: tuple[int, ...], like: torch.Tensor) -> torch.Tensor:
    """``make()`` on rank 0 (or alone), broadcast to the other ranks, which may hold no data at all."""
    if not distributed():
        return make()
    t = (
        make().contiguous()
        if dist.get_rank() == 0
        else torch.empty(shape, dtype=like.dtype, device=like.device)
    )
    dist.broadcast(t, src=0)
    return t


def _sample_rows(flat: torch.Tensor, n: int) -> torch.Tensor:
    """``n`` random rows of ``flat`` (random normal vectors when it has none)."""
    if flat.shape[0] == 0:
        return torch.randn(n, flat.shape[1], device=flat.device)
    return flat[torch.randint(0, flat.shape[0], (n,), device=flat.device)].clone()


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
        ema: update codes as exponential moving averages of their assigned inputs (no codebook loss).
        ema_decay: decay of those averages.
        kmeans_init: initialise the codebook by k-means on the first training batch (rank 0's, broadcast).
        kmeans_iters: Lloyd iterations for that.
        grad: "ste" (straight-through) or "rotation" (rotation trick).
        restart_decay: decay of the per-code usage average that decides when a code is dead (0 disables).
        restart_threshold: a code whose average count per step (summed over ranks) falls below this is replaced,
            during training, by a random encoder output of the current batch (rank 0's, broadcast).
    """

    def __init__(
        self,
        dim: int,
        codebook_size: int,
        *,
        code_dim: int | None = None,
        normalize: bool = True,
        beta: float = 0.25,
        ema: bool = False,
        ema_decay: float = 0.99,
        kmeans_init: bool = False,
        kmeans_iters: int = 10,
        grad: str = "ste",
        restart_decay: float = 0.9,
        restart_threshold: float = 0.03,
    ) -> None:
        super().__init__()
        if grad not in ("ste", "rotation"):
            raise ValueError(f"grad must be 'ste' or 'rotation', got {grad!r}")
        code_dim = code_dim or dim
        self.codebook_size = codebook_size
        self.normalize, self.beta, self.grad = normalize, beta, grad
        self.ema, self.ema_decay = ema, ema_decay
        self.kmeans_iters = kmeans_iters
        self.restart_decay, self.restart_threshold = restart_decay, restart_threshold
        self.proj_in = nn.Linear(dim, code_dim) if code_dim != dim else nn.Identity()
        self.proj_out = nn.Linear(code_dim, dim) if code_dim != dim else nn.Identity()
        self.codebook = nn.Embedding(codebook_size, code_dim)
        nn.init.normal_(self.codebook.weight)
        self.codebook.weight.requires_grad_(not ema)
        self.register_buffer("usage", torch.ones(codebook_size))
        self.register_buffer("initialized", torch.tensor(not kmeans_init))
        if ema:
            self.register_buffer("ema_count", torch.ones(codebook_size))
            self.register_buffer("ema_sum", self.codebook.weight.detach().clone())

    def _codes(self) -> torch.Tensor:
        w = self.codebook.weight
        return F.normalize(w, dim=-1) if self.normalize else w

    @torch.no_grad()
    def _set_codes(self, which: torch.Tensor | slice, values: torch.Tensor) -> None:
        self.codebook.weight[which] = values.to(self.codebook.weight.dtype)
        if self.ema:
            self.ema_sum[which] = values
            self.ema_count[which] = 1.0

    @torch.no_grad()
    def _kmeans_init(self, flat: torch.Tensor) -> None:
        k, d = self.codebook_size, flat.shape[1]

        def make() -> torch.Tensor:
            if flat.shape[0] == 0:
                return _sample_rows(flat, k)
            return kmeans(flat, k, iters=self.kmeans_iters, cosine=self.normalize)

        self._set_codes(slice(None), _from_rank0(make, (k, d), flat))
        self.initialized.fill_(True)

    @torch.no_grad()
    def _restart_dead_codes(self, flat: torch.Tensor) -> None:
        dead = (self.usage < self.restart_threshold).nonzero().squeeze(1)
        if dead.numel() == 0:  # identical on every rank: usage is summed over ranks
            return
        n = dead.numel()
        self._set_codes(dead, _from_rank0(lambda: _sample_rows(flat, n), (n, flat.shape[1]), flat))
        self.usage[dead] = 1.0

    @torch.no_grad()
    def _update_statistics(self, flat: torch.Tensor, ids: torch.Tensor) -> None:
        counts = _all_reduce(torch.bincount(ids, minlength=self.codebook_size).float())
        if self.restart_decay > 0:
            self.usage.mul_(self.restart_decay).add_(counts, alpha=1 - self.restart_decay)
        if self.ema:
            sums = _all_reduce(torch.zeros_like(self.ema_sum).index_add_(0, ids, flat))
            self.ema_count.mul_(self.ema_decay).add_(counts, alpha=1 - self.ema_decay)
            self.ema_sum.mul_(self.ema_decay).add_(sums, alpha=1 - self.ema_decay)
            n = self.ema_count.sum()
            smoothed = (self.ema_count + 1e-5) / (n + self.codebook_size * 1e-5) * n  # Laplace smoothing
            self.codebook.weight.copy_(self.ema_sum / smoothed[:, None])

    def forward(self, z: torch.Tensor) -> QuantOut:
        # Distances and argmin in float32 even under bf16/fp16 autocast: low precision picks wrong codes.
        with torch.autocast(device_type=z.device.type, enabled=False):
            return self._quantize(z.float())

    def _quantize(self, z: torch.Tensor) -> QuantOut:
        h = self.proj_in(z)
        if self.normalize:
            h = F.normalize(h, dim=-1)
        flat = h.reshape(-1, h.shape[-1])
        # Codebook state changes only on the training path: encode() on a model left in train mode must not
        # change the codebook, nor enter a collective that the other ranks never reach.
        learning = self.training and torch.is_grad_enabled()
        if learning and not bool(self.initialized):
            self._kmeans_init(flat.detach())
        if learning and self.restart_decay > 0:
            self._restart_dead_codes(flat.detach())
        codes = self._codes()
        with (
            torch.no_grad()
        ):  # ||h - c||^2 = ||h||^2 - 2 h·c + ||c||^2; the first term does not change the argmin
            ids = (codes.pow(2).sum(1)[None, :] - 2 * flat @ codes.t()).argmin(dim=1)
        q = codes[ids].view_as(h)
        if flat.shape[0] == 0:  # a rank with no data: a zero loss (not NaN) that still reaches every
            loss = (h.sum() + q.sum()) * 0  # parameter, so DDP's gradient all-reduce matches the other ranks
        else:
            commit = F.mse_loss(h, q.detach())
            loss = self.beta * commit if self.ema else F.mse_loss(q, h.detach()) + self.beta * commit
        if learning:
            self._update_statistics(flat.detach(), ids)
        q = rotation_trick(h, q) if self.grad == "rotation" else straight_through(h, q)
        stats = codebook_stats(ids, self.codebook_size)
        return QuantOut(self.proj_out(q), ids.view(h.shape[:-1]), loss, stats)

    def ids_to_latents(self, ids: torch.Tensor) -> torch.Tensor:
        return self.proj_out(self._codes()[ids])
