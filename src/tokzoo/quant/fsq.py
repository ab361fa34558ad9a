"""Finite scalar quantization: each of a few channels is bounded and rounded to a fixed number of levels.

Method: "Finite Scalar Quantization: VQ-VAE Made Simple" (Mentzer et al., 2023).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from tokzoo.core.errors import ConfigError
from tokzoo.quant.base import Quantizer, QuantOut, codebook_stats
from tokzoo.quant.registry import register_quantizer


@register_quantizer("fsq")
class FSQ(Quantizer):
    """Finite scalar quantization ("Finite Scalar Quantization: VQ-VAE Made Simple", Mentzer et al., 2023).

    Channel i is squashed to ``b = tanh(h) * L / 2`` in ``(-L/2, L/2)`` (``L = levels[i]``) and rounded
    to the grid of L points ``k + offset``, ``offset = 0`` for odd L and the half step ``0.5`` for even L,
    with a straight-through gradient. Every level owns a bin of width 1 in ``b`` and the codes are symmetric
    about 0 for both parities (so 2 levels is a sign, like LFQ); codes are scaled by ``2 / (L - 1)`` into
    [-1, 1]. (The paper's reference code instead shifts the tanh so that 0 stays a code for even L, at the
    cost of asymmetric codes and an infinite shift for L = 2.)

    Args:
        dim: channel size of the input ``z[..., dim]``; projected to ``len(levels)`` channels and back by
            Linear layers when it differs.
        levels: number of levels per channel, each >= 2; the codebook has ``prod(levels)`` codes and the id
            is the mixed-radix number of the per-channel level indices (first channel least significant).
    """

    def __init__(self, dim: int, levels: Sequence[int] = (8, 5, 5, 5)) -> None:
        super().__init__()
        levels = [int(n) for n in levels]
        if not levels or min(levels) < 2:
            raise ConfigError(f"fsq: levels must be a non-empty list of counts >= 2, got {levels}")
        self.levels = levels
        self.codebook_size = math.prod(levels)
        if self.codebook_size >= 2**62:
            raise ConfigError(f"fsq: codebook of {self.codebook_size} codes does not fit int64 ids")
        n = len(levels)
        lv = torch.tensor(levels, dtype=torch.float32)
        self.register_buffer("_half_width", lv / 2, persistent=False)
        self.register_buffer("_offset", torch.where(lv.remainder(2) == 1, 0.0, 0.5), persistent=False)
        self.register_buffer("_low", -torch.floor(lv / 2), persistent=False)  # lowest integer k
        self.register_buffer("_high", torch.floor((lv - 1) / 2), persistent=False)  # highest integer k
        self.register_buffer("_scale", (lv - 1) / 2, persistent=False)  # extreme code -> +-1
        radix = [math.prod(levels[:i]) for i in range(n)]
        self.register_buffer("_radix", torch.tensor(radix, dtype=torch.long), persistent=False)
        self.register_buffer("_levels", torch.tensor(levels, dtype=torch.long), persistent=False)
        self.proj_in = nn.Linear(dim, n) if dim != n else nn.Identity()
        self.proj_out = nn.Linear(n, dim) if dim != n else nn.Identity()

    def bound(self, h: torch.Tensor) -> torch.Tensor:
        """Squash ``h`` into ``(-L/2, L/2)`` per channel."""
        return torch.tanh(h) * self._half_width

    def soft_latents(self, z: torch.Tensor) -> torch.Tensor:
        """The latents ``forward`` would give without rounding: bounded, on the codes' scale, projected out."""
        return self.proj_out(self.bound(self.proj_in(z)) / self._scale)

    def forward(self, z: torch.Tensor) -> QuantOut:
        # Float32 under bf16/fp16 autocast: rounding near level boundaries must not depend on the input dtype.
        with torch.autocast(device_type=z.device.type, enabled=False):
            return self._quantize(z.float())

    def _quantize(self, z: torch.Tensor) -> QuantOut:
        b = self.bound(self.proj_in(z))
        # tanh saturates to exactly +-1 in float32, putting b on the outer bin edge: clamp the integer.
        k = torch.maximum(torch.minimum(torch.round(b - self._offset), self._high), self._low)
        ids = ((k - self._low).long() * self._radix).sum(-1)
        r = k + self._offset
        q = (b + (r - b).detach()) / self._scale  # straight-through rounding
        loss = torch.zeros((), device=z.device)
        return QuantOut(self.proj_out(q), ids, loss, codebook_stats(ids, self.codebook_size))

    def ids_to_codes(self, ids: torch.Tensor) -> torch.Tensor:
        """``ids[...] -> codes[..., len(levels)]`` in [-1, 1] (before the output projection)."""
        digits = (ids[..., None] // self._radix) % self._levels
        return (digits.float() + self._low + self._offset) / self._scale

    def ids_to_latents(self, ids: torch.Tensor) -> torch.Tensor:
        return self.proj_out(self.ids_to_codes(ids))
