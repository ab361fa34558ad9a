"""Tokenizer parity on parallel text: "Language Model Tokenizers Introduce Unfairness Between Languages"
(Petrov et al., 2023). The premium of language A over B is tokens(A) / tokens(B) for the same content; parity is a
premium of 1."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Parity", "parity"]


@dataclass(frozen=True)
class Parity:
    """``mean_premium``: mean of per-pair ratios; ``total_premium``: ratio of the summed token counts."""

    pairs: int
    mean_premium: float
    total_premium: float


def parity(tokens_a: Sequence[int], tokens_b: Sequence[int]) -> Parity:
    """Premium of A over B from the token counts of aligned pairs (same length, all counts of B positive)."""
    a, b = np.asarray(tokens_a, dtype=np.float64), np.asarray(tokens_b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1 or not len(a):
        raise ValueError(
            f"parity needs two equally long, non-empty lists of counts, got {a.shape} and {b.shape}"
        )
    if (b <= 0).any():
        raise ValueError("parity: a text of B has no tokens")
    return Parity(len(a), float((a / b).mean()), float(a.sum() / b.sum()))
