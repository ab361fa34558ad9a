"""Unigram symbol models for the arithmetic coder: a static one fitted on data and an adaptive one.

The static model codes every symbol with fixed frequencies (counts over a training set plus a floor; the model
is shared by encoder and decoder like a prior). The adaptive model starts uniform and adds one count per coded
symbol (the Laplace estimator, "Arithmetic Coding for Data Compression", Witten, Neal & Cleary, 1987), so it
needs no side information and learns the statistics of the stream it codes.
"""

from __future__ import annotations

import numpy as np
import torch

from tokzoo.core.tokens import Tokens
from tokzoo.prior.frequencies import FREQ_BITS, quantize

__all__ = ["AdaptiveUnigram", "StaticUnigram", "token_counts"]


def token_counts(tokens: Tokens) -> np.ndarray:
    """int64 (vocab_size,) occurrence counts of the valid ids of ``tokens``."""
    ids = tokens.ids[tokens._mask()].cpu()
    return torch.bincount(ids, minlength=tokens.vocab_size).numpy().astype(np.int64)


class StaticUnigram:
    """Fixed frequencies from ``counts`` (V,) (e.g. :func:`token_counts` of a training set)."""

    name = "unigram-static"

    def __init__(self, counts: np.ndarray, total_bits: int = FREQ_BITS) -> None:
        self.freqs = quantize(np.asarray(counts, dtype=np.float64), total_bits)

    def for_sample(self, layout: str, shape: tuple[int, ...], length: int) -> StaticUnigram:
        """The same model for every sample (see :class:`tokzoo.prior.container.CodingModel`)."""
        return self

    def order(self, layout: str, shape: tuple[int, ...], length: int) -> list[int]:
        """Stored order."""
        return list(range(length))

    def frequencies(self) -> np.ndarray:
        return self.freqs

    def update(self, symbol: int) -> None:
        """Nothing to learn: the frequencies are fixed."""


class AdaptiveUnigram:
    """Counts start at 1 per symbol and grow by 1 per coded symbol; halved when they reach the total."""

    name = "unigram-adaptive"

    def __init__(self, vocab_size: int, total_bits: int = FREQ_BITS) -> None:
        if not 1 <= 2 * vocab_size <= 1 << total_bits:
            raise ValueError(f"vocabulary of {vocab_size} does not fit a frequency total of 2**{total_bits}")
        self.counts = np.ones(vocab_size, dtype=np.int64)
        self.total = vocab_size
        self.limit = 1 << total_bits

    def for_sample(self, layout: str, shape: tuple[int, ...], length: int) -> AdaptiveUnigram:
        """One model over the whole batch: its counts carry over from sample to sample."""
        return self

    def order(self, layout: str, shape: tuple[int, ...], length: int) -> list[int]:
        """Stored order."""
        return list(range(length))

    def frequencies(self) -> np.ndarray:
        return self.counts

    def update(self, symbol: int) -> None:
        self.counts[symbol] += 1
        self.total += 1
        if self.total >= self.limit:
            self.counts = (self.counts + 1) // 2
            self.total = int(self.counts.sum())
