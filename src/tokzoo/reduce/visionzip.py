"""VisionZip: dominant tokens by attention, the rest merged into a few contextual tokens.

"VisionZip: Longer is Better but Not Necessary in Vision Language Models" (Yang et al., 2025). Of a budget of k
tokens, ``k - c`` are the dominant ones (highest attention from the query rows, computed from those rows only:
``tokzoo.reduce.attention``); the remaining tokens are spread evenly (in token order) into c contextual
targets, and every other remaining token is averaged into the target whose key it is most similar to
(normalised dot product). Nothing is dropped: sizes sum to N.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from tokzoo.core.errors import ConfigError
from tokzoo.reduce.attention import importance
from tokzoo.reduce.base import Keep, Reduced, merge, nearest_of, topk_mask
from tokzoo.reduce.method import ReductionMethod


class VisionZip(ReductionMethod):
    """Dominant top-k plus contextual merging; ``contextual`` is the fraction of the budget (at least one token
    when the budget allows) given to contextual tokens. Context as ``AttentionTopK``."""

    name = "visionzip"
    merges = True
    context = frozenset({"scores", "query", "keys"})

    def __init__(self, protected: int = 0, heads: int = 1, contextual: float = 0.15) -> None:
        super().__init__(protected)
        if not 0 < contextual < 1:
            raise ConfigError(f"contextual must lie in (0, 1), got {contextual}")
        self.heads, self.contextual = heads, contextual

    def _reduce(
        self,
        x: torch.Tensor,
        keep: Keep | None,
        valid: torch.Tensor | None,
        protect: torch.Tensor,
        **context: Any,
    ) -> Reduced:
        counts = self._pruning_counts(x, keep, valid, protect)
        n_valid = x.shape[1] if valid is None else valid.sum(1)
        sizes = context.pop("sizes", None)
        free = counts - protect.sum(1)
        n_ctx = (free.float() * self.contextual).round().long().clamp(min=(free > 0).long(), max=free)
        n_ctx = torch.where(counts >= n_valid, 0, n_ctx)  # a full budget keeps every token as it is
        scores = importance(x, valid, self.protected, self.heads, **context).float()
        scores = scores.masked_fill(protect, float("inf"))
        if valid is not None:
            scores = scores.masked_fill(~valid, float("-inf"))
        dominant = topk_mask(scores, counts - n_ctx)
        rest = ~dominant if valid is None else ~dominant & valid
        n_rest = rest.sum(1)
        rank = rest.long().cumsum(1) - 1
        bucket = torch.div(rank * n_ctx[:, None], n_rest.clamp_min(1)[:, None], rounding_mode="floor")
        previous = torch.div((rank - 1) * n_ctx[:, None], n_rest.clamp_min(1)[:, None], rounding_mode="floor")
        is_target = rest & (n_ctx[:, None] > 0) & ((rank == 0) | (bucket != previous))
        metric = F.normalize(x if context.get("keys") is None else context["keys"], dim=-1)
        positions = torch.arange(x.shape[1], device=x.device).expand_as(rest)
        best = nearest_of(metric, is_target)[1]
        target = torch.where(
            dominant | is_target, positions, torch.where(rest & (n_ctx[:, None] > 0), best, -1)
        )
        return merge(x, dominant | is_target, target, sizes)
