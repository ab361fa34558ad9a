"""DivPrune: keep the most diverse tokens (max–min cosine distance).

"DivPrune: Diversity-based Visual Token Pruning for Large Multimodal Models" (Alvar et al., 2025) casts pruning
as a Max–Min Diversity Problem over cosine distances and solves it greedily. Here the greedy solve is the
incremental one of ``tokzoo.reduce.maxmin`` (O(K·N·D), no N × N matrix). The first token, when nothing is
protected, is the one least similar to the mean token (a deterministic O(N) start).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from tokzoo.reduce.base import Keep, Reduced, select
from tokzoo.reduce.maxmin import greedy_maxmin
from tokzoo.reduce.method import ReductionMethod


class DivPrune(ReductionMethod):
    """Greedy max–min diversity of ``features`` (context; default the tokens) under cosine distance."""

    name = "divprune"
    context = frozenset({"features"})

    def _reduce(
        self,
        x: torch.Tensor,
        keep: Keep | None,
        valid: torch.Tensor | None,
        protect: torch.Tensor,
        **context: Any,
    ) -> Reduced:
        counts = self._pruning_counts(x, keep, valid, protect)
        sizes = context.pop("sizes", None)
        feats = context.get("features")
        f = F.normalize((x if feats is None else feats).float(), dim=-1)
        mean = f.mean(1, keepdim=True) if valid is None else (f * valid[..., None]).sum(1, keepdim=True)
        start = (f @ mean.transpose(1, 2))[..., 0]
        if valid is not None:
            start = start.masked_fill(~valid, float("inf"))
        rows = torch.arange(len(x), device=x.device)

        def distance_to(idx: torch.Tensor) -> torch.Tensor:
            return 1.0 - (f @ f[rows, idx][..., None])[..., 0]

        return select(x, greedy_maxmin(distance_to, protect, counts, start.argmin(1), valid), sizes)
