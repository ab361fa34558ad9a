"""Unigram entropies of a token stream and their efficiencies at an explicit vocabulary size.

"Tokenization and the Noiseless Channel" (Zouhar et al., 2023): Shannon efficiency H(p) / log2 V and Rényi
efficiency H_α(p) / log2 V (α = 2.5 predicts downstream quality best there), with V the vocabulary size given by
the caller — the one the tokens are coded over, not the number of ids seen. Entropies are in bits, plug-in
estimates from the counts.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["renyi_efficiency", "renyi_entropy", "shannon_efficiency", "token_counts", "unigram_entropy"]


def token_counts(ids: np.ndarray, vocab_size: int) -> np.ndarray:
    """Occurrences of each id in ``[0, vocab_size)``."""
    ids = np.asarray(ids, dtype=np.int64).ravel()
    if ids.size and (ids.min() < 0 or ids.max() >= vocab_size):
        raise ValueError(f"ids must lie in [0, {vocab_size})")
    return np.bincount(ids, minlength=vocab_size)


def _probabilities(counts: np.ndarray) -> np.ndarray:
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    if total <= 0:
        raise ValueError("entropy of an empty token stream")
    p = counts[counts > 0] / total
    return p


def unigram_entropy(counts: np.ndarray) -> float:
    """Shannon entropy in bits of the unigram distribution of ``counts``."""
    p = _probabilities(counts)
    return float(-(p * np.log2(p)).sum())


def renyi_entropy(counts: np.ndarray, alpha: float) -> float:
    """Rényi entropy of order ``alpha`` in bits: log2(Σ p^α) / (1 - α); α = 1 is Shannon's, α = ∞ min-entropy."""
    if alpha < 0:
        raise ValueError(f"Rényi order must be >= 0, got {alpha}")
    p = _probabilities(counts)
    if alpha == 1:
        return unigram_entropy(counts)
    if math.isinf(alpha):
        return float(-np.log2(p.max()))
    return float(np.log2((p**alpha).sum()) / (1 - alpha))


def _check_vocab(vocab_size: int) -> float:
    if vocab_size < 2:
        raise ValueError(f"efficiency needs a vocabulary of at least 2 ids, got {vocab_size}")
    return math.log2(vocab_size)


def shannon_efficiency(counts: np.ndarray, vocab_size: int) -> float:
    """H(p) / log2(vocab_size): 1 when all ``vocab_size`` ids are equally frequent."""
    return unigram_entropy(counts) / _check_vocab(vocab_size)


def renyi_efficiency(counts: np.ndarray, vocab_size: int, alpha: float = 2.5) -> float:
    """H_α(p) / log2(vocab_size)."""
    return renyi_entropy(counts, alpha) / _check_vocab(vocab_size)
