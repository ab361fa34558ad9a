"""Word-level measures of "How Good is Your Tokenizer? On the Monolingual Performance of Multilingual Language
Models" (Rust et al., 2021): fertility (tokens per word) and the proportion of continued words (words split into
two or more tokens). Words are maximal runs of non-whitespace bytes (ASCII whitespace); a token counts for every
word it overlaps, so a token that spans a space (character-level BPE) counts for both words. Vectorised in NumPy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["WordStats", "word_spans", "word_stats"]

_SPACE = np.zeros(256, dtype=bool)
_SPACE[[9, 10, 11, 12, 13, 32]] = True


@dataclass(frozen=True)
class WordStats:
    """``words``; ``fertility`` = tokens per word; ``continued_word_rate`` = share of words in >= 2 tokens."""

    words: int
    fertility: float
    continued_word_rate: float


def word_spans(text: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Byte offsets ``(starts, ends)`` of the whitespace-separated words of ``text``."""
    word = ~_SPACE[np.frombuffer(text, dtype=np.uint8)]
    edges = np.diff(np.concatenate(([False], word, [False])).astype(np.int8))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def tokens_per_word(text: bytes, token_lengths: np.ndarray) -> np.ndarray:
    """How many tokens overlap each word; ``token_lengths`` are the tokens' byte lengths, summing to ``len(text)``."""
    lengths = np.asarray(token_lengths, dtype=np.int64)
    if int(lengths.sum()) != len(text):
        raise ValueError(f"token lengths sum to {int(lengths.sum())} bytes, the text has {len(text)}")
    ends = np.cumsum(lengths)
    starts = ends - lengths
    w_start, w_end = word_spans(text)
    return np.searchsorted(starts, w_end, "left") - np.searchsorted(ends, w_start, "right")


def word_stats(text: bytes, token_lengths: np.ndarray) -> WordStats:
    """Fertility and continued-word rate of one tokenized text (NaN for a text without words)."""
    counts = tokens_per_word(text, token_lengths)
    if not len(counts):
        return WordStats(0, float("nan"), float("nan"))
    return WordStats(len(counts), float(counts.mean()), float((counts >= 2).mean()))
