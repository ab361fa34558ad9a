"""The two error types of ``tokzoo.svg``: bad input SVG, and a bad token sequence (with its position)."""

from __future__ import annotations

from tokzoo.core.errors import DataError, LimitError, TokenSequenceError

__all__ = ["SvgInputError", "SvgLimitError", "SvgTokenError"]


class SvgInputError(DataError):
    """An SVG that cannot be tokenized: malformed XML, nothing drawable, non-finite numbers, too large."""


class SvgLimitError(SvgInputError, LimitError):
    """An SVG beyond a resource limit (size, elements after ``<use>`` expansion, nesting depth, segments)."""


class SvgTokenError(TokenSequenceError):
    """A token sequence that is not a valid SVG program; ``position`` is the offending token's index."""
