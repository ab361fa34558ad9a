"""Morph-boundary precision, recall and F1 of a segmentation against gold morphological segmentations, micro and
macro, as in the boundary diagnostics of "Optimal Turkish Subword Strategies at Scale" (2025).

A word's boundaries are the character offsets strictly inside it where one piece ends and the next begins
(``ev|ler|de`` → {2, 5}). Micro scores pool true/false positives and false negatives over all words; macro scores
average each word's precision, recall and F1. A word where neither side has a boundary scores 1 on all three (it
was left whole, correctly); a side with no boundaries where the other has some scores 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["BoundaryScores", "boundaries", "boundary_scores"]


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


def boundaries(pieces: Sequence[str]) -> set[int]:
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


def boundary_scores(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> BoundaryScores:
    """Scores of ``predicted`` pieces per word against ``gold`` morphs per word (the same words, in order)."""
    if len(gold) != len(predicted) or not gold:
        raise ValueError(
            f"need the same non-zero number of gold and predicted words, got {len(gold)} and {len(predicted)}"
        )
    totals = [0, 0, 0]
    per_word = []
    for g, p in zip(gold, predicted, strict=True):
        if "".join(g) != "".join(p):
            raise ValueError(f"gold {list(g)} and predicted {list(p)} do not spell the same word")
        gb, pb = boundaries(g), boundaries(p)
        counts = (len(gb & pb), len(pb - gb), len(gb - pb))
        totals = [t + c for t, c in zip(totals, counts, strict=True)]
        per_word.append(_prf(*counts))
    micro = _prf(*totals)
    macro = [sum(s[i] for s in per_word) / len(per_word) for i in range(3)]
    return BoundaryScores(len(gold), *micro, *macro)
