"""Custom tokens (KL3M's domain tokens: section signs, citation abbreviations, markup): strings always kept as one
token, matched by tokzoo before the subword model sees the text, so they never collide with its byte-level pieces.

"KL3M Tokenizers: A Family of Domain-Specific and Character-Level Tokenizers for Legal, Financial, and
Preprocessing Applications" (Bommarito et al., 2025) adds such tokens to a BPE vocabulary.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

__all__ = ["CustomTokens"]


class CustomTokens:
    """Splits text at occurrences of the custom tokens (longest first where two overlap)."""

    def __init__(self, tokens: tuple[str, ...]) -> None:
        self.tokens = tokens
        self.index = {t: i for i, t in enumerate(tokens)}
        ordered = sorted(tokens, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if tokens else None

    def split(self, text: str) -> Iterator[tuple[str, int | None]]:
        """``(piece, None)`` for ordinary text and ``(token, k)`` for the k-th custom token, in order; empty
        ordinary pieces are left out."""
        if self._pattern is None:
            if text:
                yield text, None
            return
        start = 0
        for m in self._pattern.finditer(text):
            if m.start() > start:
                yield text[start : m.start()], None
            yield m.group(), self.index[m.group()]
            start = m.end()
        if start < len(text):
            yield text[start:], None

    def strip(self, text: str) -> list[str]:
        """The ordinary pieces of ``text`` (what a subword model is trained on)."""
        return [piece for piece, k in self.split(text) if k is None]
