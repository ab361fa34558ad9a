"""Mask-pooled object tokens: a few tokens for user-given regions.

"PixelRefer: A Unified Framework for Spatio-Temporal Object Referring with Arbitrary Granularity" (2025) turns
free-form regions into compact object tokens by pooling the visual features under each mask (its Scale-Adaptive
Object Tokenizer). Here one token per mask: the mask-weighted mean of the tokens, masks given on the token
grid or at pixel resolution (area-averaged to the grid). The assignment sends each token to the object whose
mask covers it most (−1 if none), so outputs unmerge onto their regions.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from tokzoo.core.errors import ConfigError, DataError
from tokzoo.reduce.base import Keep, Reduced
from tokzoo.reduce.method import ReductionMethod


class ObjectPool(ReductionMethod):
    """One token per mask. Context ``masks``: (B, M, N) weights over tokens, or (B, M, H, W) pixel masks over
    a square (or ``grid`` (h, w)) token grid. ``keep`` must be None (M decides). Empty masks give padding."""

    name = "objects"
    merges = True
    context = frozenset({"masks", "grid"})

    def _reduce(
        self,
        x: torch.Tensor,
        keep: Keep | None,
        valid: torch.Tensor | None,
        protect: torch.Tensor,
        **context: Any,
    ) -> Reduced:
        if keep is not None:
            raise ConfigError("objects: the masks decide the output; pass keep=None")
        masks = context.get("masks")
        if masks is None:
            raise DataError("objects needs masks")
        b, n, _ = x.shape
        if masks.dim() == 4:
            h, w = context.get("grid") or (math.isqrt(n),) * 2
            if h * w != n:
                raise DataError(f"objects: grid {h}×{w} does not hold {n} tokens")
            masks = F.interpolate(masks.float(), size=(h, w), mode="area").flatten(2)
        if masks.dim() != 3 or masks.shape[0] != b or masks.shape[2] != n:
            raise DataError(f"objects: masks must be (B, M, {n}) or (B, M, H, W), got {tuple(masks.shape)}")
        weights = masks.to(x.dtype).clamp_min(0)
        if valid is not None:
            weights = weights * valid[:, None, :]
        sizes = weights.sum(-1)
        tokens = (weights @ x) / sizes.clamp_min(1e-12)[..., None]
        present = sizes > 0
        cover, owner = weights.max(1)
        assign = torch.where(cover > 0, owner, -1)
        index = (weights > 0).float().argmax(-1)  # first covered position of each object
        return Reduced(tokens, assign, sizes, index, None if bool(present.all()) else present)
