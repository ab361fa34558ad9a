"""SeGPruner: salient tokens, then geometry- and semantics-aware farthest-point sampling across all views.

"SeGPruner: Semantic-Geometric Visual Token Pruner for 3D Question Answering" (2026). A share of the budget goes
to the most salient tokens (attention from the query rows, ``tokzoo.reduce.attention``); the rest is filled by
farthest-point sampling under the fused distance

    d(i, j) = λ · ‖p_i − p_j‖ / d_max + (1 − λ) · (1 − cos(f_i, f_j))

where p are the tokens' 3-D points (back-projected from depth with the camera poses) and f their features. The
sampling runs over the tokens of **all views jointly**, so a surface seen by several cameras is covered once; the
released code runs it per view, which ``per_view=True`` reproduces as a baseline. d_max is the diagonal of the
points' bounding box (an O(N) upper bound of the largest pairwise distance, instead of the O(N²) maximum).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from tokzoo.core.errors import ConfigError, DataError
from tokzoo.reduce.attention import importance
from tokzoo.reduce.base import Keep, Reduced, select, topk_mask
from tokzoo.reduce.maxmin import greedy_maxmin
from tokzoo.reduce.method import ReductionMethod


class SeGPruner(ReductionMethod):
    """Saliency top-k (``saliency`` of the budget) plus fused-distance FPS. Context: ``points`` (B, N, 3);
    ``scores`` / ``query`` / ``keys`` for saliency as ``AttentionTopK``; ``views`` (int, equal-sized views in
    order) when ``per_view``."""

    name = "segpruner"
    context = frozenset({"points", "scores", "query", "keys", "views"})

    def __init__(
        self,
        protected: int = 0,
        heads: int = 1,
        lam: float = 0.5,
        saliency: float = 0.5,
        per_view: bool = False,
    ) -> None:
        super().__init__(protected)
        if not 0 <= lam <= 1 or not 0 <= saliency <= 1:
            raise ConfigError(f"lam and saliency must lie in [0, 1], got {lam}, {saliency}")
        self.heads, self.lam, self.saliency, self.per_view = heads, lam, saliency, per_view

    def _reduce(
        self,
        x: torch.Tensor,
        keep: Keep | None,
        valid: torch.Tensor | None,
        protect: torch.Tensor,
        **context: Any,
    ) -> Reduced:
        counts = self._pruning_counts(x, keep, valid, protect)
        sizes, points, views = (
            context.pop("sizes", None),
            context.pop("points", None),
            context.pop("views", None),
        )
        if points is None or points.shape != (*x.shape[:2], 3):
            raise DataError(f"segpruner needs points of shape {(*x.shape[:2], 3)}")
        scores = importance(x, valid, self.protected, self.heads, **context).float()
        if not self.per_view:
            return select(x, self._choose(x, points, scores, counts, protect, valid), sizes)
        if views is None or x.shape[1] % views or valid is not None:
            raise ConfigError("segpruner per_view needs `views` dividing N (and no padded input)")
        b, n, d = x.shape
        per = torch.div(
            counts[:, None] + torch.arange(views, device=x.device).flip(0), views, rounding_mode="floor"
        )
        chosen = self._choose(
            x.reshape(b * views, n // views, d),
            points.reshape(b * views, n // views, 3),
            scores.reshape(b * views, -1),
            per.reshape(-1).clamp_min(protect.reshape(b * views, -1).sum(1)),
            protect.reshape(b * views, -1),
            None,
        )
        return select(x, chosen.reshape(b, n), sizes)

    def _choose(
        self,
        x: torch.Tensor,
        points: torch.Tensor,
        scores: torch.Tensor,
        counts: torch.Tensor,
        protect: torch.Tensor,
        valid: torch.Tensor | None,
    ) -> torch.Tensor:
        fixed = protect.sum(1)
        salient = fixed + ((counts - fixed).float() * self.saliency).round().long()
        scores = scores.masked_fill(protect, float("inf"))
        if valid is not None:
            scores = scores.masked_fill(~valid, float("-inf"))
        chosen = topk_mask(scores, salient)
        f = F.normalize(x.float(), dim=-1)
        p = points.float()
        inside = torch.ones(x.shape[:2], dtype=torch.bool, device=x.device) if valid is None else valid
        lo = p.masked_fill(~inside[..., None], float("inf")).amin(1)
        hi = p.masked_fill(~inside[..., None], float("-inf")).amax(1)
        d_max = (hi - lo).norm(dim=-1).clamp_min(1e-6)[:, None]
        rows = torch.arange(len(x), device=x.device)

        def distance_to(idx: torch.Tensor) -> torch.Tensor:
            geometric = (p - p[rows, idx][:, None]).norm(dim=-1) / d_max
            semantic = 1.0 - (f @ f[rows, idx][..., None])[..., 0]
            return self.lam * geometric + (1.0 - self.lam) * semantic

        return greedy_maxmin(distance_to, chosen, counts, scores.argmax(1), valid)
