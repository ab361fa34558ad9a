"""Morph-boundary precision, recall and F1 of a segmentation against gold morphological segmentations, micro and
macro, as in the boundary diagnostics of "Optimal Turkish Subword Strategies at Scale" (2025).

A word's boundaries are the character offsets strictly inside it where one piece ends and the next begins
(``ev|ler|de`` → {2, 5}). Micro scores pool true/false positives and false negatives over all words; macro scores
average each word's precision, recall and F1. A word where neither side has a boundary scores 1 on all three (it
was left whole, correctly); a side with no boundaries where the other has some scores 0. Pieces may be ``str``
(character offsets) or ``bytes`` (byte offsets, for byte-level tokens that can cut inside a character).

:func:`morph_score` is MorphScore-style ("Why do language models perform worse for morphologically complex
languages?", Arnett and Bergen, 2025): one gold boundary per word (here the last one, between a base and its
outermost suffix); the share of words the tokenizer splits at all whose predicted boundaries include it. Words
kept whole are left out, and counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

Piece = TypeVar("Piece", str, bytes)

__all__ = ["BoundaryScores", "MorphScore", "boundaries", "boundary_scores", "morph_score"]


@dataclass(frozen=True)
class BoundaryScores:
    """Micro and macro precision / recall / F1 of boundary placement over ``words`` words."""

    words: int
    micro_precision: float
    micro_recall: float
    micro_f1: float
    macro_precision: float
    macro_recall: float
    macro_f1: float


def boundaries(pieces: Sequence[str] | Sequence[bytes]) -> set[int]:
    """Offsets inside the word where a piece ends: ``["ev", "ler", "de"]`` → {2, 5}."""
    cuts, at = set(), 0
    for piece in pieces[:-1]:
        at += len(piece)
        cuts.add(at)
    return cuts


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    if tp + fp + fn == 0:
        return 1.0, 1.0, 1.0
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def _spelling(pieces: Sequence[Piece]) -> Piece:
    return pieces[0][:0].join(pieces) if pieces else ""  # type: ignore[return-value]


def boundary_scores(gold: Sequence[Sequence[Piece]], predicted: Sequence[Sequence[Piece]]) -> BoundaryScores:
    """Scores of ``predicted`` pieces per word against ``gold`` morphs per word (the same words, in order)."""
    if len(gold) != len(predicted) or not gold:
        raise ValueError(
            f"need the same non-zero number of gold and predicted words, got {len(gold)} and {len(predicted)}"
        )
    totals = [0, 0, 0]
    per_word = []
    for g, p in zip(gold, predicted, strict=True):
        if _spelling(g) != _spelling(p):
            raise ValueError(f"gold {list(g)} and predicted {list(p)} do not spell the same word")
        gb, pb = boundaries(g), boundaries(p)
        counts = (len(gb & pb), len(pb - gb), len(gb - pb))
        totals = [t + c for t, c in zip(totals, counts, strict=True)]
        per_word.append(_prf(*counts))
    micro = _prf(*totals)
    macro = [sum(s[i] for s in per_word) / len(per_word) for i in range(3)]
    return BoundaryScores(len(gold), *micro, *macro)


@dataclass(frozen=True)
class MorphScore:
    """``score``: share of the ``scored`` words whose predicted boundaries include the gold one; ``kept_whole``:
    words left out because the tokenizer did not split them."""

    scored: int
    kept_whole: int
    score: float


def morph_score(gold: Sequence[Sequence[Piece]], predicted: Sequence[Sequence[Piece]]) -> MorphScore:
    """MorphScore-style score of ``predicted`` pieces against the last boundary of each ``gold`` word (every gold
    word needs at least two morphs)."""
    if len(gold) != len(predicted) or not gold:
        raise ValueError(
            f"need the same non-zero number of gold and predicted words, got {len(gold)} and {len(predicted)}"
        )
    hits = scored = whole = 0
    for g, p in zip(gold, predicted, strict=True):
        if len(g) < 2 or _spelling(g) != _spelling(p):
            raise ValueError(f"gold {list(g)} needs two or more morphs spelling the predicted {list(p)}")
        if len(p) < 2:
            whole += 1
            continue
        scored += 1
        hits += max(boundaries(g)) in boundaries(p)
    return MorphScore(scored, whole, hits / scored if scored else 0.0)
