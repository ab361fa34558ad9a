"""Compression-aware BPE: merges chosen by how much they shorten the entropy-coded token stream, not by count.

After "An Information-Theoretic Perspective on LLM Tokenizers" (2025), which introduces a compression-aware BPE
variant; its exact criterion was not available to us, so this is ours, stated exactly. With n_x the count of
token x in the training words (weighted by word frequency) and N = Σ n_x, the stream costs, under the plug-in
unigram code,

    L = Σ_x n_x log2(N / n_x) = f(N) - Σ_x f(n_x),   f(n) = n log2 n   (bits).

Plain BPE ("Neural Machine Translation of Rare Words with Subword Units", Sennrich et al., 2016) merges the most
frequent pair, which most reduces N. This trainer merges, among the ``candidates`` most frequent pairs, the pair
(a, b) whose merge most reduces L, computed from the counts as if all c occurrences of the pair merge:
N → N - c, n_a → n_a - c, n_b → n_b - c (n_a - 2c when a = b), n_ab → n_ab + c. The learned merges are loaded
into an HF ``tokenizers`` BPE model, which encodes with them by rank like any BPE.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Iterable

__all__ = ["code_length_gain", "learn_merges"]

Pair = tuple[str, str]


def _f(n: float) -> float:
    return n * math.log2(n) if n > 0 else 0.0


def code_length_gain(counts: Counter[str], total: int, pair: Pair, c: int) -> float:
    """Bits by which merging ``c`` occurrences of ``pair`` shortens the unigram-coded stream (the criterion)."""
    a, b = pair
    merged = a + b
    changes: Counter[str] = Counter({merged: c})
    changes[a] -= c
    changes[b] -= c
    before = _f(total) - sum(_f(counts[x]) for x in changes)
    after = _f(total - c) - sum(_f(counts[x] + d) for x, d in changes.items())
    return before - after


def _pairs(word: list[str]) -> Iterable[Pair]:
    return itertools.pairwise(word)


def _merge(word: list[str], pair: Pair) -> tuple[list[str], int]:
    """``word`` with every non-overlapping occurrence of ``pair`` merged left to right, and their number."""
    out, i, hits = [], 0, 0
    while i < len(word):
        if i + 1 < len(word) and (word[i], word[i + 1]) == pair:
            out.append(word[i] + word[i + 1])
            i += 2
            hits += 1
        else:
            out.append(word[i])
            i += 1
    return out, hits


def learn_merges(
    word_counts: dict[str, int],
    num_merges: int,
    *,
    criterion: str = "compression",
    candidates: int = 8,
    min_frequency: int = 2,
    max_token_length: int = 0,
) -> list[Pair]:
    """Learn up to ``num_merges`` merges over the characters of ``word_counts`` (pre-tokenized words and their
    counts). ``criterion``: ``"frequency"`` (plain BPE) or ``"compression"`` (see the module docstring).
    Stops early when no pair occurs ``min_frequency`` times; ties go to the lexicographically smallest pair."""
    if criterion not in ("frequency", "compression"):
        raise ValueError(f"criterion must be 'frequency' or 'compression', got {criterion!r}")
    words = [list(w) for w in word_counts]
    freq = list(word_counts.values())
    counts: Counter[str] = Counter()
    pair_count: Counter[Pair] = Counter()
    where: defaultdict[Pair, set[int]] = defaultdict(set)
    for i, (word, f) in enumerate(zip(words, freq, strict=True)):
        for s in word:
            counts[s] += f
        for p in _pairs(word):
            pair_count[p] += f
            where[p].add(i)
    total = sum(counts.values())
    heap = [(-c, p) for p, c in pair_count.items()]
    heapq.heapify(heap)
    merges: list[Pair] = []
    while len(merges) < num_merges:
        top: list[tuple[int, Pair]] = []
        while heap and len(top) < (candidates if criterion == "compression" else 1):
            neg, p = heapq.heappop(heap)
            valid = pair_count.get(p, 0) == -neg and -neg >= min_frequency and p not in (q for _, q in top)
            if valid and (not max_token_length or len(p[0]) + len(p[1]) <= max_token_length):
                top.append((-neg, p))
        if not top:
            break
        if criterion == "compression":
            best = max(top, key=lambda cp: (code_length_gain(counts, total, cp[1], cp[0]), -cp[0], cp[1]))[1]
        else:
            best = top[0][1]
        for c, p in top:
            if p != best:
                heapq.heappush(heap, (-c, p))
        merges.append(best)
        touched: set[Pair] = set()
        for i in sorted(where.pop(best, ())):
            word, f = words[i], freq[i]
            for p in _pairs(word):
                pair_count[p] -= f
                where[p].discard(i)
                touched.add(p)
            new, hits = _merge(word, best)
            counts[best[0]] -= hits * f
            counts[best[1]] -= hits * f
            counts[best[0] + best[1]] += hits * f
            total -= hits * f
            words[i] = new
            for p in _pairs(new):
                pair_count[p] += f
                where[p].add(i)
                touched.add(p)
        pair_count.pop(best, None)
        for p in touched:
            if pair_count.get(p, 0) > 0:
                heapq.heappush(heap, (-pair_count[p], p))
    return merges
