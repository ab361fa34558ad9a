"""The per-text summary of a tokenization that ``tokzoo eval`` writes (compression and word measures)."""

from __future__ import annotations

from typing import Any

import numpy as np

from tokzoo.text.metrics.compression import bytes_per_token, tokens_per_char
from tokzoo.text.metrics.words import word_stats

__all__ = ["text_metrics"]


def text_metrics(text: bytes, token_lengths: np.ndarray) -> dict[str, Any]:
    """Bytes per token, tokens per character, fertility and continued-word rate of one tokenized text (None
    where undefined: no tokens, no characters or no words)."""
    n = len(token_lengths)
    chars = len(text.decode("utf-8", "surrogateescape"))
    words = word_stats(text, token_lengths)
    return {
        "chars": chars,
        "bytes_per_token": bytes_per_token(len(text), n) if n else None,
        "tokens_per_char": tokens_per_char(n, chars) if chars else None,
        "fertility": words.fertility if words.words else None,
        "continued_word_rate": words.continued_word_rate if words.words else None,
    }
