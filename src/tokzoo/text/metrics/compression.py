"""Compression of a tokenization in the two units the literature uses; always named with their unit.

``bytes_per_token`` (UTF-8 bytes of the text per token: higher is more compression; a byte tokenizer scores 1)
is the unit of "An Information-Theoretic Perspective on LLM Tokenizers" (2025) and of KL3M (2025);
``tokens_per_char`` (tokens per Unicode character: lower is more compression) is independent of the encoding.
"""

from __future__ import annotations

__all__ = ["bytes_per_token", "tokens_per_char"]


def bytes_per_token(num_bytes: int, num_tokens: int) -> float:
    """UTF-8 bytes per token; ValueError for a text without tokens."""
    if num_tokens <= 0:
        raise ValueError("bytes_per_token: no tokens")
    return num_bytes / num_tokens


def tokens_per_char(num_tokens: int, num_chars: int) -> float:
    """Tokens per Unicode character (code point); ValueError for an empty text."""
    if num_chars <= 0:
        raise ValueError("tokens_per_char: empty text")
    return num_tokens / num_chars
