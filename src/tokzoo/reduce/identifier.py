"""Identifier-span merging for code token sequences.

"On the Effect of Token Merging on Pre-trained Models for Code" (Saad et al., 2025): the sub-tokens a subword
tokenizer splits one identifier into are averaged into a single hidden state, cutting the sequence (and the
FLOPs of every later layer) without retraining. ``identifier_spans`` finds the spans from the source text with
Python's own ``tokenize``; ``IdentifierMerge`` averages each span. For a causal model the merged state sits at
the span's last sub-token (``at="last"``), so no position sees a later one.
"""

from __future__ import annotations

import io
import keyword
import tokenize
from collections.abc import Sequence
from typing import Any

import torch

from tokzoo.core.errors import ConfigError, DataError
from tokzoo.reduce.base import Keep, Reduced, merge
from tokzoo.reduce.method import ReductionMethod


def identifier_spans(source: str, offsets: Sequence[tuple[int, int]]) -> list[int]:
    """Span id per token: tokens whose character range ``offsets[i] = (start, end)`` lies inside the same Python
    identifier (a NAME token that is not a keyword) share an id ≥ 0; every other token gets -1."""
    line_starts = [0]
    for line in source.splitlines(keepends=True):
        line_starts.append(line_starts[-1] + len(line))
    names: list[tuple[int, int]] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.NAME and not _is_keyword(tok.string):
                start = line_starts[tok.start[0] - 1] + tok.start[1]
                names.append((start, start + len(tok.string)))
    except (tokenize.TokenError, SyntaxError, IndentationError) as error:
        raise DataError(f"identifier_spans: source does not tokenize as Python: {error}") from error
    spans, j = [], 0
    for start, end in offsets:
        while j < len(names) and names[j][1] <= start:
            j += 1
        inside = j < len(names) and names[j][0] <= start and end <= names[j][1] and end > start
        spans.append(j if inside else -1)
    return spans


def _is_keyword(word: str) -> bool:
    return keyword.iskeyword(word) or keyword.issoftkeyword(word)


class IdentifierMerge(ReductionMethod):
    """Average the tokens of each identifier span. Context ``spans`` (B, N) long: equal ids ≥ 0 mark one
    contiguous span, -1 a token of its own. ``keep`` is implied by the spans and must be None."""

    name = "identifier"
    merges = True
    context = frozenset({"spans"})

    def __init__(self, protected: int = 0, at: str = "last") -> None:
        super().__init__(protected)
        if at not in ("first", "last"):
            raise ConfigError(f"at must be 'first' or 'last', got {at!r}")
        self.at = at

    def _reduce(
        self,
        x: torch.Tensor,
        keep: Keep | None,
        valid: torch.Tensor | None,
        protect: torch.Tensor,
        **context: Any,
    ) -> Reduced:
        spans = context.get("spans")
        if keep is not None:
            raise ConfigError("identifier: the spans decide what is kept; pass keep=None")
        if spans is None or spans.shape != x.shape[:2]:
            raise DataError(f"identifier needs spans of shape {tuple(x.shape[:2])}")
        spans = spans.to(x.device).masked_fill(protect, -1)
        if valid is not None:
            spans = spans.masked_fill(~valid, -1)
        b, n = spans.shape
        positions = torch.arange(n, device=x.device).expand(b, n)
        in_span = spans >= 0
        same_prev = in_span & torch.cat([torch.zeros_like(in_span[:, :1]), spans[:, 1:] == spans[:, :-1]], 1)
        same_next = in_span & torch.cat([spans[:, :-1] == spans[:, 1:], torch.zeros_like(in_span[:, :1])], 1)
        rep = ~same_next if self.at == "last" else ~same_prev
        # each span's representative: the run's last (first) position, found by a running max (min)
        if self.at == "last":
            ends = torch.where(rep, positions, n).flip(1).cummin(1).values.flip(1)
            target = ends
        else:
            target = torch.where(rep, positions, -1).cummax(1).values
        if valid is not None:
            rep &= valid
            target = target.masked_fill(~valid, -1)
        return merge(x, rep, target, context.get("sizes"))
