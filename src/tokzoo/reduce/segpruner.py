"""SeGPruner: salient tokens, then geometry- and semantics-aware farthest-point sampling across all views.

"SeGPruner: Semantic-Geometric Visual Token Pruner for 3D Question Answering" (2026). A share of the budget goes
to the most salient tokens (attention from the query rows, ``tokzoo.reduce.attention``); the rest is filled by
farthest-point sampling under the fused distance

    d(i, j) = λ · ‖p_i − p_j‖ / d_max + (1 − λ) · (1 − cos(f_i, f_j))

where p are the tokens' 3-D points (back-projected from depth with the camera poses) and f their features. The
sampling runs over the tokens of **all views jointly**, so a surface seen by several cameras is covered once; the
released code runs it per view, which ``per_view=True`` reproduces as a baseline. d_max is the diagonal of the
points' bounding box (an O(N) upper bound of the largest pairwise distance, instead of the O(N²) maximum).

Tokens whose depth is not valid (sky, beyond the sensor's range: ``depth_valid`` False) have no meaningful 3-D
point: they are left out of d_max and of the sampling, and taken only when the valid ones run out, so a far
back-projection can neither stretch the distance scale nor win farthest-point sampling by being far away.
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
    order) when ``per_view``; ``depth_valid`` (B, N) bool, False where a token's depth is missing."""

    name = "segpruner"
    context = frozenset({"points", "scores", "query", "keys", "views", "depth_valid"})

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
        sizes, points, views, depth_ok = (
            context.pop("sizes", None),
            context.pop("points", None),
            context.pop("views", None),
            context.pop("depth_valid", None),
        )
        if points is None or points.shape != (*x.shape[:2], 3):
            raise DataError(f"segpruner needs points of shape {(*x.shape[:2], 3)}")
        if depth_ok is None:
            depth_ok = torch.ones(x.shape[:2], dtype=torch.bool, device=x.device)
        elif depth_ok.shape != x.shape[:2] or depth_ok.dtype != torch.bool:
            raise DataError(f"segpruner depth_valid must be a bool tensor of shape {tuple(x.shape[:2])}")
        scores = importance(x, valid, self.protected, self.heads, **context).float()
        if not self.per_view:
            return select(x, self._choose(x, points, scores, counts, protect, valid, depth_ok), sizes)
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
            depth_ok.reshape(b * views, -1),
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
        depth_ok: torch.Tensor,
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
        located = inside & depth_ok
        lo = p.masked_fill(~located[..., None], float("inf")).amin(1)
        hi = p.masked_fill(~located[..., None], float("-inf")).amax(1)
        d_max = (hi - lo).norm(dim=-1).nan_to_num(0.0, 0.0, 0.0).clamp_min(1e-6)[:, None]
        rows = torch.arange(len(x), device=x.device)

        def distance_to(idx: torch.Tensor) -> torch.Tensor:
            geometric = (p - p[rows, idx][:, None]).norm(dim=-1) / d_max
            semantic = 1.0 - (f @ f[rows, idx][..., None])[..., 0]
            return self.lam * geometric + (1.0 - self.lam) * semantic

        first = scores.masked_fill(~located, float("-inf")).argmax(1)
        first = torch.where(located.any(1), first, scores.argmax(1))
        reachable = torch.minimum(counts, (chosen | located).sum(1))
        chosen = greedy_maxmin(distance_to, chosen, reachable, first, located)
        if bool((reachable < counts).any()):  # too few located tokens: the rest from those without depth
            chosen = greedy_maxmin(distance_to, chosen, counts, first, inside)
        return chosen
