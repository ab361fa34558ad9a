"""FastVGGT-style merging for multi-view global attention: reference frame and protected tokens stay, the rest
merges into them, and attention outputs are unmerged back to every token.

"FastVGGT: Training-Free Acceleration of Visual Geometry Transformer" (Shen et al., 2025). In a visual-geometry
transformer's global (all-frames) attention, tokens of the first (reference) frame and a few sampled tokens of
every other frame are destination tokens; special tokens (camera, register) and the most distinctive tokens are
protected; every other token merges into its most similar destination, ToMe-style. Attention runs on the merged
set with proportional attention, and each merged token's output is copied back to all its members (unmerge),
so the residual stream keeps every token. ``MergedAttention`` in ``tokzoo.reduce.patch`` does this inside a
model; ``FastVGGTMerge.reduce`` is the selection itself.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from tokzoo.core.errors import ConfigError
from tokzoo.reduce.base import Keep, Reduced, merge, nearest_of
from tokzoo.reduce.method import ReductionMethod


class FastVGGTMerge(ReductionMethod):
    """Merge ``N - keep`` tokens into destinations: the reference frame (context ``reference``: its number of
    leading tokens, default none) plus a random ``dst_ratio`` of the other tokens. Context ``metric`` (default
    the tokens); ``protect`` (e.g. camera, register or text tokens) are left alone. ``salient`` is the fraction
    of non-reference tokens also protected for having the largest norm."""

    name = "fastvggt"
    merges = True
    context = frozenset({"reference", "metric"})

    def __init__(
        self, protected: int = 0, dst_ratio: float = 0.1, salient: float = 0.0, seed: int = 0
    ) -> None:
        super().__init__(protected)
        if not 0 <= dst_ratio <= 1 or not 0 <= salient < 1:
            raise ConfigError(
                f"dst_ratio must lie in [0, 1] and salient in [0, 1), got {dst_ratio}, {salient}"
            )
        self.dst_ratio, self.salient, self.seed = dst_ratio, salient, seed

    def _reduce(
        self,
        x: torch.Tensor,
        keep: Keep | None,
        valid: torch.Tensor | None,
        protect: torch.Tensor,
        **context: Any,
    ) -> Reduced:
        if valid is not None:
            raise ConfigError("fastvggt merges full multi-view sequences; padded inputs are not supported")
        counts = self._counts(x, keep, valid)
        b, n, _ = x.shape
        per = int(context.get("reference") or 0)
        if not 0 <= per <= n:
            raise ConfigError(f"fastvggt: reference frame of {per} tokens outside the {n} tokens")
        positions = torch.arange(n, device=x.device)
        generator = torch.Generator().manual_seed(self.seed)
        dst = (positions < per).expand(b, n) | (
            torch.rand(b, n, generator=generator).to(x.device) < self.dst_ratio
        )
        metric = context.get("metric")
        metric = F.normalize((x if metric is None else metric).float(), dim=-1)
        fixed = dst | protect
        if self.salient > 0:
            n_salient = int(self.salient * (n - per))
            ranked = (
                x.float()
                .norm(dim=-1)
                .masked_fill(fixed, float("-inf"))
                .argsort(dim=1, descending=True)[:, :n_salient]
            )
            fixed = fixed.scatter(1, ranked, True)
        src = ~fixed
        r = n - counts
        if bool((r > src.sum(1)).any()):
            raise ConfigError(
                f"fastvggt: keep {counts.tolist()} is below the destination and protected tokens"
            )
        dst_only = dst & ~protect
        best, match = nearest_of(metric, dst_only)
        best = best.masked_fill(~src, float("-inf"))
        rank = best.argsort(dim=1, descending=True, stable=True).argsort(dim=1)
        merged = src & (rank < r[:, None])
        target = torch.where(merged, match, positions.expand(b, n))
        return merge(x, ~merged, target, context.get("sizes"))
