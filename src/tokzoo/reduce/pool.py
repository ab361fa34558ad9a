"""Nested pooling of a token grid to coarser grids (M3 / TokenFLEX).

"Matryoshka Multimodal Models" (M3; Cai et al., 2024) represents an image by nested token sets obtained by
average-pooling the 24 × 24 visual grid to 12 × 12, 6 × 6, 3 × 3, 1 × 1; "TokenFLEX: Unified VLM Training for
Flexible Visual Tokens Inference" (2025) pools adaptively to any count. Here a budget of k tokens
becomes an h' × w' grid with h'·w' = k (the factorisation closest to the input's aspect), and every input token
joins the cell it falls in, so cells partition the grid exactly and sizes sum to N.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from tokzoo.core.errors import ConfigError
from tokzoo.reduce.base import Keep, Reduced, merge
from tokzoo.reduce.method import ReductionMethod


def pooled_grid(k: int, h: int, w: int) -> tuple[int, int]:
    """(h', w') with h'·w' = k, h' ≤ h, w' ≤ w, aspect closest to h : w; ``ConfigError`` if none exists."""
    options = [(a, k // a) for a in range(1, k + 1) if k % a == 0 and a <= h and k // a <= w]
    if not options:
        raise ConfigError(
            f"pool: {k} tokens cannot tile a {h}×{w} grid (choose k = h'·w' with h' ≤ {h}, w' ≤ {w})"
        )
    return min(options, key=lambda hw: abs(math.log(hw[0] / hw[1]) - math.log(h / w)))


class NestedPool(ReductionMethod):
    """Average tokens over the cells of a coarser grid. The grid is the context ``grid`` (h, w) or, by default,
    the square of the non-protected tokens; protected tokens (leading, e.g. CLS) are kept as they are."""

    name = "pool"
    merges = True
    context = frozenset({"grid"})

    def _reduce(
        self,
        x: torch.Tensor,
        keep: Keep | None,
        valid: torch.Tensor | None,
        protect: torch.Tensor,
        **context: Any,
    ) -> Reduced:
        if valid is not None:
            raise ConfigError("pool: padded inputs have no grid; pool before other reductions")
        b, n, _ = x.shape
        p = self.protected
        if bool(protect[:, p:].any()):
            raise ConfigError("pool protects only the leading `protected` tokens")
        h, w = context.get("grid") or (math.isqrt(n - p),) * 2
        if h * w != n - p:
            raise ConfigError(f"pool: grid {h}×{w} does not hold the {n - p} unprotected tokens")
        counts = self._counts(x, keep, valid) - p
        if bool((counts < 1).any()):
            raise ConfigError(f"pool: keep must exceed the {p} protected tokens")
        rows = torch.arange(h, device=x.device).repeat_interleave(w)
        cols = torch.arange(w, device=x.device).repeat(h)
        cell_first = torch.empty(b, n - p, dtype=torch.long, device=x.device)
        for k in counts.unique().tolist():
            gh, gw = pooled_grid(k, h, w)
            r, c = rows * gh // h, cols * gw // w
            # the first (row-major) input token of each cell represents it; keeps the output in grid order
            first_row = torch.div(r * h + gh - 1, gh, rounding_mode="floor")
            first_col = torch.div(c * w + gw - 1, gw, rounding_mode="floor")
            cell_first[counts == k] = first_row * w + first_col + p
        positions = torch.arange(n, device=x.device).expand(b, n)
        target = torch.cat([positions[:, :p], cell_first], 1)
        return merge(x, target == positions, target, context.get("sizes"))
