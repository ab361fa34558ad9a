"""Word-level measures of "How Good is Your Tokenizer? On the Monolingual Performance of Multilingual Language
Models" (Rust et al., 2021): fertility (tokens per word) and the proportion of continued words (words split into
two or more tokens). Words are maximal runs of non-whitespace bytes (ASCII whitespace); a token counts for every
word it overlaps, so a token that spans a space (character-level BPE) counts for both words. Vectorised in NumPy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["WordStats", "word_spans", "word_stats"]

_WORD_BYTE = bytes(0 if b in (9, 10, 11, 12, 13, 32) else 1 for b in range(256))  # bytes.translate table


@dataclass(frozen=True)
class WordStats:
    """``words``; ``fertility`` = tokens per word; ``continued_word_rate`` = share of words in >= 2 tokens."""

    words: int
    fertility: float
    continued_word_rate: float


def word_spans(text: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Byte offsets ``(starts, ends)`` of the whitespace-separated words of ``text``."""
    padded = np.zeros(len(text) + 2, dtype=np.int8)  # 1 on word bytes, 0 on whitespace and both ends
    padded[1:-1] = np.frombuffer(text.translate(_WORD_BYTE), dtype=np.int8)
    edges = np.diff(padded)
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def tokens_per_word(text: bytes, token_lengths: np.ndarray) -> np.ndarray:
    """How many tokens overlap each word; ``token_lengths`` are the tokens' byte lengths, summing to ``len(text)``.

    One pass over the bytes: with ``starts[b]`` the number of tokens starting at or before byte ``b``, a word on
    bytes ``[s, e)`` overlaps ``starts[e - 1] - starts[s] + 1`` tokens (the one holding byte ``s`` and each one
    starting inside the word)."""
    ends = np.cumsum(np.asarray(token_lengths, dtype=np.int64))
    total = int(ends[-1]) if len(ends) else 0
    if total != len(text):
        raise ValueError(f"token lengths sum to {total} bytes, the text has {len(text)}")
    is_start = np.zeros(len(text), dtype=np.int32)
    is_start[ends[:-1]] = 1
    starts = np.cumsum(is_start, dtype=np.int32)
    w_start, w_end = word_spans(text)
    return starts[w_end - 1] - starts[w_start] + 1


def word_stats(text: bytes, token_lengths: np.ndarray) -> WordStats:
    """Fertility and continued-word rate of one tokenized text (NaN for a text without words)."""
    counts = tokens_per_word(text, token_lengths)
    if not len(counts):
        return WordStats(0, float("nan"), float("nan"))
    return WordStats(len(counts), float(counts.mean()), float((counts >= 2).mean()))
