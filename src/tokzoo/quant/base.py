"""The one interface every quantizer implements, and the codebook statistics every log carries."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn


@dataclass
class QuantOut:
    """What a quantizer returns: quantized latents (same shape as the input), ids (input shape without
    the last dim; None when continuous), the auxiliary loss, and statistics to log."""

    latents: torch.Tensor
    ids: torch.Tensor | None
    loss: torch.Tensor
    stats: dict[str, torch.Tensor] = field(default_factory=dict)


class Quantizer(nn.Module, ABC):
    """``forward(z[..., D]) -> QuantOut``; ``ids_to_latents(ids) -> z_q[..., D]``.

    ``token_kind`` tells :class:`tokzoo.quant.bottleneck.Bottleneck` how the output becomes ``Tokens``:
    ``"single"`` (``ids[...]``, one id per position), ``"depth"`` (``ids[..., K]``, K ids per position),
    ``"multiscale"`` (flat coarse-to-fine token maps) or ``"continuous"`` (no ids; the quantizer then also
    implements ``latent_values`` and ``values_to_latents``). ``post_training`` quantizers are fitted after the
    continuous model is trained; until then (and on the training path) the bottleneck passes latents through.
    """

    codebook_size: int | None
    token_kind: ClassVar[str] = "single"
    post_training: ClassVar[bool] = False

    @abstractmethod
    def forward(self, z: torch.Tensor) -> QuantOut: ...

    @abstractmethod
    def ids_to_latents(self, ids: torch.Tensor) -> torch.Tensor: ...

    @property
    def fittable(self) -> bool:
        """Whether ``fit(latents)`` applies after training (post-training quantizers; a kl bottleneck with a
        storage grid)."""
        return self.post_training

    @property
    def bits_per_token(self) -> float | None:
        """log2 of the codebook size (None for a continuous bottleneck)."""
        return None if self.codebook_size is None else math.log2(self.codebook_size)


@torch.no_grad()
def codebook_stats(ids: torch.Tensor, codebook_size: int) -> dict[str, torch.Tensor]:
    """Usage (share of codes hit), perplexity (exp of entropy) and entropy in bits of a batch of ids.

    The counts come from a codebook-sized histogram when the batch has at least as many ids as the codebook
    has codes, otherwise from ``torch.unique`` over the batch's ids (cost O(n log n) in the n ids, not O(codebook)):
    codes absent from the batch add nothing to the entropy, so both give the same numbers. This keeps the stats
    cheap for large codebooks (FSQ/LFQ with 2**16 codes and more) on every training step."""
    flat = ids.reshape(-1)
    if codebook_size <= flat.numel():
        counts = torch.bincount(flat, minlength=codebook_size).float()
        hit = (counts > 0).sum()
    else:
        counts = torch.unique(flat, return_counts=True)[1].float()
        hit = torch.tensor(counts.numel(), device=ids.device)
    p = counts / counts.sum().clamp_min(1)
    entropy = -(p * torch.log2(p.clamp_min(1e-12))).sum()
    return {
        "usage": hit.float() / codebook_size,
        "perplexity": torch.exp2(entropy),
        "entropy_bits": entropy,
    }


def safe_mse(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``F.mse_loss`` that is 0 (still connected to both inputs' graphs) for empty inputs instead of NaN:
    a rank with no data in a step must return a finite loss that reaches the same parameters as the others."""
    return F.mse_loss(a, b) if a.numel() else (a.sum() + b.sum()) * 0


def distributed() -> bool:
    """True inside an initialised process group of more than one rank (quantizers then sync their state)."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1
