"""Attention-based token importance from the query rows only: FastV / VisionZip dominant tokens.

"An Image is Worth 1/2 Tokens After Layer 2: Plug-and-Play Inference Acceleration for Large Vision-Language
Models" (FastV; Chen et al., 2024) and "VisionZip: Longer is Better but Not Necessary in Vision Language Models"
(Yang et al., 2025) rank visual tokens by the attention they receive (from the last text tokens, or from CLS).
Released code reads it from the full (N × N) attention matrix, which SDPA/FlashAttention never materialise.
Here the importance is recomputed from the Q query rows and the keys: softmax(q kᵀ / √d) is (Q × N), so the cost
is O(Q·N·D) and works with any attention kernel.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from tokzoo.core.errors import ConfigError, DataError
from tokzoo.reduce.method import ScoredPruning


def query_attention(
    query: torch.Tensor, keys: torch.Tensor, heads: int = 1, valid: torch.Tensor | None = None
) -> torch.Tensor:
    """(B, N) attention each key receives, averaged over ``heads`` and the Q query rows.

    ``query`` (B, Q, D) and ``keys`` (B, N, D) are the projected q and k (D = heads × head width); padded keys
    (``valid`` False) get no attention.
    """
    if (
        query.dim() != 3
        or keys.dim() != 3
        or query.shape[-1] != keys.shape[-1]
        or query.shape[0] != keys.shape[0]
    ):
        raise DataError(
            f"query {tuple(query.shape)} and keys {tuple(keys.shape)} must be (B, Q, D) and (B, N, D)"
        )
    b, q, d = query.shape
    if d % heads:
        raise ConfigError(f"width {d} is not divisible by {heads} heads")
    qh = query.reshape(b, q, heads, d // heads).transpose(1, 2)
    kh = keys.reshape(b, -1, heads, d // heads).transpose(1, 2)
    logits = qh @ kh.transpose(-1, -2) / math.sqrt(d // heads)
    if valid is not None:
        logits = logits.masked_fill(~valid[:, None, None, :], float("-inf"))
    return logits.softmax(-1).mean(dim=(1, 2))


class AttentionTopK(ScoredPruning):
    """Keep the tokens that the query rows attend most (FastV; VisionZip's dominant tokens).

    Context: ``scores`` (B, N) already computed, or ``query`` (B, Q, D) with optional ``keys`` (B, N, D;
    default the tokens themselves). Without either, the first ``protected`` tokens (e.g. CLS) are the query.
    """

    name = "attention"
    context = frozenset({"scores", "query", "keys"})

    def __init__(self, protected: int = 0, heads: int = 1) -> None:
        super().__init__(protected)
        self.heads = heads

    def _scores(self, x: torch.Tensor, valid: torch.Tensor | None, **context: Any) -> torch.Tensor:
        return importance(x, valid, self.protected, self.heads, **context)


def importance(
    x: torch.Tensor,
    valid: torch.Tensor | None,
    protected: int,
    heads: int,
    scores: torch.Tensor | None = None,
    query: torch.Tensor | None = None,
    keys: torch.Tensor | None = None,
) -> torch.Tensor:
    """(B, N) importance: ``scores`` if given, else the attention from ``query`` (default the protected rows)."""
    if scores is not None:
        if scores.shape != x.shape[:2]:
            raise DataError(f"scores: expected {tuple(x.shape[:2])}, got {tuple(scores.shape)}")
        return scores
    if query is None:
        if protected == 0:
            raise ConfigError(
                "attention scores need `scores`, a `query`, or protected query tokens (e.g. CLS)"
            )
        query = x[:, :protected]
    return query_attention(query, x if keys is None else keys, heads, valid)
