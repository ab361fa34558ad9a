"""ToMe: bipartite soft matching with size-weighted merging and proportional attention.

"Token Merging: Your ViT But Faster" (Bolya et al., 2023). Tokens alternate into sets A and B; each A token finds
its most similar B token (cosine of the ``metric``, in ToMe the attention keys); the r most similar pairs merge
(A into B) as size-weighted means, so a merged token is the exact average of the inputs it holds. Later
attention layers add ``log(size)`` to the logits (proportional attention: ``Reduced.attention_bias``, an
additive SDPA mask). One matching removes at most half the tokens; larger reductions repeat it.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from tokzoo.core.errors import ConfigError
from tokzoo.reduce.base import Keep, Reduced, compose, merge
from tokzoo.reduce.method import ReductionMethod


def bipartite_targets(
    metric: torch.Tensor, r: torch.Tensor, valid: torch.Tensor | None, protect: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """One ToMe matching: (rep, target) for ``merge``, merging ``r[b]`` A tokens of sample b into B tokens.

    A = even positions, B = odd positions; padding and protected tokens neither merge nor receive. ``r`` is
    clipped to what can merge.
    """
    b, n, _ = metric.shape
    positions = torch.arange(n, device=metric.device)
    a_pos, b_pos = positions[0::2], positions[1::2]
    m = F.normalize(metric.float(), dim=-1)
    scores = m[:, a_pos] @ m[:, b_pos].transpose(1, 2)
    blocked = protect if valid is None else protect | ~valid
    scores = scores.masked_fill(blocked[:, a_pos, None] | blocked[:, None, b_pos], float("-inf"))
    best, match = scores.max(-1) if len(b_pos) else (scores.new_full((b, len(a_pos)), float("-inf")), None)
    rank = best.argsort(dim=1, descending=True, stable=True).argsort(dim=1)
    merged = (rank < r[:, None]) & torch.isfinite(best)
    target = positions.expand(b, n).clone()
    if match is not None:
        target[:, a_pos] = torch.where(merged, b_pos[match], a_pos)
    rep = torch.ones(b, n, dtype=torch.bool, device=metric.device)
    rep[:, a_pos] = ~merged
    if valid is not None:
        rep &= valid
        target = target.masked_fill(~valid, -1)
    return rep, target


class ToMe(ReductionMethod):
    """Repeated bipartite soft matching down to ``keep`` tokens. Context ``metric`` (B, N, C): the similarity
    features (default the tokens; ToMe uses the keys); ``sizes`` (B, N) of earlier merges."""

    name = "tome"
    merges = True
    context = frozenset({"metric"})

    def _reduce(
        self,
        x: torch.Tensor,
        keep: Keep | None,
        valid: torch.Tensor | None,
        protect: torch.Tensor,
        **context: Any,
    ) -> Reduced:
        counts = self._counts(x, keep, valid)
        metric = context.get("metric")
        metric = x if metric is None else metric
        b, n, d = x.shape
        positions = torch.arange(n, device=x.device).expand(b, n)
        sizes = context.get("sizes")
        sizes = torch.ones(b, n, device=x.device, dtype=x.dtype) if sizes is None else sizes.to(x.dtype)
        assign = positions if valid is None else positions.masked_fill(~valid, -1)
        if valid is not None:
            sizes = sizes.masked_fill(~valid, 0.0)
        # the metric rides along with the tokens, so merged tokens carry size-weighted mean metrics
        out = Reduced(torch.cat([x, metric.to(x.dtype)], -1), assign, sizes, positions, valid)
        while bool((out.counts > counts).any()):
            have = out.counts
            rep, target = bipartite_targets(
                out.tokens[..., d:], have - counts, out.valid, protect_at(protect, out.index, out.valid)
            )
            step = merge(out.tokens, rep, target, out.sizes)
            stuck = (step.counts == have) & (have > counts)
            if bool(stuck.any()):
                raise ConfigError(
                    f"tome: cannot merge below {have[stuck].tolist()} tokens (protected tokens)"
                )
            out = Reduced(
                step.tokens,
                compose(out.assign, step.assign),
                step.sizes,
                out.index.gather(1, step.index),
                step.valid,
            )
        return Reduced(out.tokens[..., :d], out.assign, out.sizes, out.index, out.valid)


def protect_at(protect: torch.Tensor, index: torch.Tensor, valid: torch.Tensor | None) -> torch.Tensor:
    """The protect mask carried to the current (reduced) tokens, whose input positions are ``index``."""
    carried = protect.gather(1, index)
    return carried if valid is None else carried & valid
