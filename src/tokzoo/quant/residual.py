"""Residual vector quantization: a stack of VQ stages, each coding what the previous ones left over.

Methods: "Autoregressive Image Generation using Residual Quantization" (Lee et al., 2022) for the residual
stack; "SoundStream: An End-to-End Neural Audio Codec" (Zeghidour et al., 2021) for quantizer dropout, which
trains every prefix of the stack to be a usable (lower-rate) code.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from tokzoo.quant.base import Quantizer, QuantOut, codebook_stats
from tokzoo.quant.registry import register_quantizer
from tokzoo.quant.vq import VectorQuantizer

_STAT_KEYS = ("usage", "perplexity", "entropy_bits")


def level_stats(level_ids: list[torch.Tensor | None], codebook_size: int) -> dict[str, torch.Tensor]:
    """Codebook statistics per level (``usage/0``, ...) plus their mean over the levels that ran under the
    plain keys. A level that was dropped (None) reports NaN and is left out of the mean."""
    stats: dict[str, torch.Tensor] = {}
    per_key: dict[str, list[torch.Tensor]] = {k: [] for k in _STAT_KEYS}
    for i, ids in enumerate(level_ids):
        if ids is None:
            for k in _STAT_KEYS:
                stats[f"{k}/{i}"] = torch.tensor(float("nan"))
            continue
        s = codebook_stats(ids, codebook_size)
        for k in _STAT_KEYS:
            stats[f"{k}/{i}"] = s[k]
            per_key[k].append(s[k])
    for k in _STAT_KEYS:
        stats[k] = torch.stack(per_key[k]).mean() if per_key[k] else torch.tensor(float("nan"))
    return stats


def sample_num_levels(num_levels: int, dropout: float, training: bool, device: torch.device) -> int:
    """How many leading levels to use: all of them, except in training where with probability ``dropout``
    a uniformly random count in [1, num_levels] is drawn (one draw per batch)."""
    if not training or dropout <= 0 or num_levels == 1:
        return num_levels
    if float(torch.rand((), device=device)) >= dropout:
        return num_levels
    return int(torch.randint(1, num_levels + 1, (), device=device))


@register_quantizer("rvq")
class ResidualVQ(Quantizer):
    """Residual VQ ("Autoregressive Image Generation using Residual Quantization", Lee et al., 2022), with
    quantizer dropout ("SoundStream: An End-to-End Neural Audio Codec", Zeghidour et al., 2021).

    Stage ``i`` is a :class:`VectorQuantizer` applied to ``z - sum(stage outputs < i)``; the latents are the
    sum of the stage outputs. Each stage uses a straight-through estimator and the residual is not
    detached, so the gradient of the latents with respect to ``z`` is the identity (as in SoundStream).

    Args:
        dim: channel size of the input ``z[..., dim]``.
        num_quantizers: number of stages; ``ids`` have shape ``[..., num_quantizers]``.
        codebook_size: codes per stage.
        quantizer_dropout: probability that a training batch uses only a random number k of leading stages;
            the other stages do not run, contribute nothing to latents or loss, and get id ``-1``.
        normalize: passed to every stage (default False, the usual choice for residuals).
        **vq_options: any other :class:`VectorQuantizer` option (``code_dim``, ``beta``, ``ema``,
            ``kmeans_init``, ``grad``, ``restart_decay``, ...), passed to every stage.
    """

    token_kind = "depth"

    def __init__(
        self,
        dim: int,
        num_quantizers: int = 4,
        codebook_size: int = 1024,
        *,
        quantizer_dropout: float = 0.0,
        normalize: bool = False,
        **vq_options: Any,
    ) -> None:
        super().__init__()
        if num_quantizers < 1:
            raise ValueError(f"num_quantizers must be >= 1, got {num_quantizers}")
        if not 0.0 <= quantizer_dropout <= 1.0:
            raise ValueError(f"quantizer_dropout must be in [0, 1], got {quantizer_dropout}")
        self.dim = dim
        self.num_quantizers = num_quantizers
        self.codebook_size = codebook_size
        self.quantizer_dropout = quantizer_dropout
        self.stages = nn.ModuleList(
            VectorQuantizer(dim, codebook_size, normalize=normalize, **vq_options)
            for _ in range(num_quantizers)
        )

    @property
    def bits_per_token(self) -> float:
        """``num_quantizers * log2(codebook_size)`` bits per position."""
        return self.num_quantizers * math.log2(self.codebook_size)

    def forward(self, z: torch.Tensor) -> QuantOut:
        with torch.autocast(device_type=z.device.type, enabled=False):
            return self._quantize(z.float())

    def _quantize(self, z: torch.Tensor) -> QuantOut:
        k = sample_num_levels(self.num_quantizers, self.quantizer_dropout, self.training, z.device)
        residual = z
        latents = torch.zeros_like(z)
        loss = z.new_zeros(())
        ids = torch.full((*z.shape[:-1], self.num_quantizers), -1, dtype=torch.long, device=z.device)
        level_ids: list[torch.Tensor | None] = [None] * self.num_quantizers
        for i in range(k):
            out = self.stages[i](residual)
            latents = latents + out.latents
            residual = residual - out.latents
            loss = loss + out.loss
            ids[..., i] = out.ids
            level_ids[i] = out.ids
        stats = level_stats(level_ids, self.codebook_size)
        stats["num_stages_used"] = torch.tensor(float(k))
        return QuantOut(latents, ids, loss / k, stats)

    def ids_to_latents(self, ids: torch.Tensor) -> torch.Tensor:
        """Decode ``ids[..., n]`` with ``n <= num_quantizers`` leading stages; ids ``< 0`` (dropped stages)
        contribute nothing."""
        n = ids.shape[-1]
        if not 1 <= n <= self.num_quantizers:
            raise ValueError(f"ids must have 1..{self.num_quantizers} stages in the last dim, got {n}")
        out: torch.Tensor | None = None
        for i in range(n):
            level = ids[..., i]
            valid = (level >= 0).unsqueeze(-1)
            part = self.stages[i].ids_to_latents(level.clamp_min(0)) * valid
            out = part if out is None else out + part
        assert out is not None
        return out
