"""Integer symbol frequencies quantised from model probabilities, with a floor so no symbol is impossible.

An arithmetic coder needs integer frequencies that the encoder and decoder compute identically and that sum to
a fixed total. :func:`quantize` maps any probability vector (or unnormalised non-negative scores) to such
frequencies: every symbol gets at least 1 of ``total`` (so a symbol the model thinks nearly impossible still
codes, at about ``log2(total)`` bits), the rest is shared in proportion to the probabilities by integer floors,
and the remainder goes to the most probable symbol.
"""

from __future__ import annotations

import numpy as np

__all__ = ["FREQ_BITS", "ideal_bits", "quantize"]

#: log2 of the frequency total; 2**24 keeps the floor's cost small for vocabularies up to a few 10^5 ids.
FREQ_BITS = 24


def quantize(probs: np.ndarray, total_bits: int = FREQ_BITS) -> np.ndarray:
    """int64 frequencies (V,) >= 1 summing to exactly ``2**total_bits`` from non-negative ``probs`` (V,).

    ``probs`` need not sum to 1; NaN, infinite or negative entries raise ``ValueError``, as does a vocabulary
    too large for the total (each symbol needs at least one count).
    """
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 1 or p.size == 0:
        raise ValueError(f"probabilities must be a non-empty 1-D vector, got shape {p.shape}")
    if not np.isfinite(p).all() or (p < 0).any():
        raise ValueError("probabilities must be finite and non-negative")
    total = 1 << total_bits
    v = p.size
    if 2 * v > total:
        raise ValueError(f"vocabulary of {v} symbols is too large for a frequency total of 2**{total_bits}")
    s = p.sum()
    p = p / s if s > 0 else np.full(v, 1.0 / v)
    freqs = 1 + np.floor(p * (total - v)).astype(np.int64)
    freqs[int(np.argmax(p))] += total - int(freqs.sum())
    return freqs


def ideal_bits(freqs: np.ndarray, symbol: int) -> float:
    """Information content -log2(f_s / sum f) of ``symbol`` under integer frequencies ``freqs``."""
    return float(np.log2(freqs.sum()) - np.log2(freqs[symbol]))
