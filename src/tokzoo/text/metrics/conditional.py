"""Conditional entropies H_k of a token given the k tokens before it, as in "An Information-Theoretic Perspective
on LLM Tokenizers" (2025): as tokenizers are trained on more data, unigram entropy rises while H_k for k >= 1
falls (the tokenizer absorbs short-range regularity).

Plug-in estimate over the (k+1)-grams inside each sequence: H_k = H(k+1-gram) - H(its first k tokens), both
counted over the same positions, in bits; H_0 is the unigram entropy. n-grams are keyed exactly while
V^(k+1) < 2^63 and by a 64-bit polynomial hash beyond (collisions are then possible but negligible).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["conditional_entropies"]

_BASE = np.uint64(0x9E3779B97F4A7C15)  # an odd 64-bit multiplier for the hashed keys


def _entropy_of_keys(keys: np.ndarray) -> float:
    _, counts = np.unique(keys, return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log2(p)).sum())


def _keys(seqs: Sequence[np.ndarray], n: int, vocab_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Keys of every n-gram and of its first n-1 tokens (same positions), over all sequences."""
    exact = vocab_size**n < 2**63
    full, prefix = [], []
    for seq in seqs:
        s = np.asarray(seq, dtype=np.int64)
        m = len(s) - n + 1
        if m <= 0:
            continue
        key = np.zeros(m, dtype=np.int64 if exact else np.uint64)
        for j in range(n):
            if j == n - 1:
                prefix.append(key.copy())
            part = s[j : j + m]
            key = key * vocab_size + part if exact else key * _BASE + part.astype(np.uint64) + np.uint64(1)
        full.append(key)
    if not full:
        return np.zeros(0), np.zeros(0)
    return np.concatenate(full), np.concatenate(prefix)


def conditional_entropies(seqs: Sequence[np.ndarray], vocab_size: int, max_k: int = 3) -> list[float | None]:
    """``[H_0, H_1, ..., H_max_k]`` in bits; None for an order with no (k+1)-gram in the data."""
    with np.errstate(over="ignore"):
        out: list[float | None] = []
        for k in range(max_k + 1):
            full, prefix = _keys(seqs, k + 1, vocab_size)
            if not len(full):
                out.append(None)
                continue
            out.append(_entropy_of_keys(full) - (_entropy_of_keys(prefix) if k else 0.0))
        return out
