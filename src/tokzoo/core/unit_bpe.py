"""A BPE over whole *units* of a structured token sequence, shared by the structured tokenizers.

Level 2 of HiVG ("Hierarchical SVG Tokenization", 2026) for SVG (:mod:`tokzoo.svg`: a unit is a complete
command with all its parameters, a path header, PATH_END) and the primitive-level tokens of CAD-Tokenizer
("CAD-Tokenizer: Towards Text-based CAD Prototyping via Modality-Specific Tokenization", 2025) for CAD programs
(:mod:`tokzoo.cad.primitives`: a unit is a curve or a part of an extrusion). The base symbols are units, never
single numbers, so every segment token is an executable group of commands.
A segment is either a promoted unit (one token for e.g. ``h 4``) or the merge of two adjacent symbols.
Learning is greedy by tokens saved: promoting unit u saves ``count(u) * (len(u) - 1)`` tokens, merging the
pair (a, b) saves ``count(a, b) * (cost(a) + cost(b) - 1)`` where an unpromoted unit costs its atom count.
Each word (an SVG path, a CAD sketch-and-extrude operation) is separate, so merges never cross its boundary. Encoding applies the merges by rank
(classic BPE) and writes every symbol as its token, or as its atoms if it is an unpromoted unit; expanding
the tokens back gives the atoms exactly, so level 1 ↔ level 2 is lossless by construction.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np

from tokzoo.core.errors import TokenSequenceError

__all__ = ["SegmentTable", "learn_segments"]

Unit = tuple[int, ...]


@dataclass
class SegmentTable:
    """Learned segments in rank order: ``expansions[k]`` are the atoms of token ``base + k``;
    ``splits[k]`` is the length of its left part for a merge, 0 for a promoted unit."""

    base: int
    expansions: list[Unit] = field(default_factory=list)
    splits: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._index()

    def _index(self) -> None:
        self._id = {e: self.base + k for k, e in enumerate(self.expansions)}
        self._rank = {
            (e[:s], e[s:]): k for k, (e, s) in enumerate(zip(self.expansions, self.splits, strict=True)) if s
        }
        self._cache: dict[tuple[Unit, ...], list[int]] = {}

    def to_arrays(self, capacity: int, max_atoms: int) -> tuple[np.ndarray, np.ndarray]:
        """``(capacity, max_atoms)`` expansions padded with -1, and ``(capacity,)`` splits (-1 = unused)."""
        table = np.full((capacity, max_atoms), -1, dtype=np.int64)
        splits = np.full((capacity,), -1, dtype=np.int64)
        for k, (e, s) in enumerate(zip(self.expansions, self.splits, strict=True)):
            table[k, : len(e)] = e
            splits[k] = s
        return table, splits

    @classmethod
    def from_arrays(cls, base: int, table: np.ndarray, splits: np.ndarray) -> SegmentTable:
        used = [k for k in range(len(splits)) if splits[k] >= 0]
        expansions = [tuple(int(t) for t in table[k] if t >= 0) for k in used]
        return cls(base, expansions, [int(splits[k]) for k in used])

    def encode_path(self, units: Sequence[Unit]) -> list[int]:
        """Segment ids of one word's units (BPE merges by rank, then units → ids or atoms)."""
        key = tuple(units)
        if key in self._cache:
            return self._cache[key]
        symbols = list(units)
        while len(symbols) > 1:
            ranks = [self._rank.get((symbols[i], symbols[i + 1])) for i in range(len(symbols) - 1)]
            best = min((r for r in ranks if r is not None), default=None)
            if best is None:
                break
            merged, i = [], 0
            while i < len(symbols):
                if i < len(symbols) - 1 and ranks[i] == best:
                    merged.append(symbols[i] + symbols[i + 1])
                    i += 2
                else:
                    merged.append(symbols[i])
                    i += 1
            symbols = merged
        out: list[int] = []
        for s in symbols:
            tid = self._id.get(s)
            out.extend([tid] if tid is not None else s)
        if len(self._cache) < 100_000:
            self._cache[key] = out
        return out

    def expand(
        self, ids: Iterable[int], vocab_size: int, error: type[TokenSequenceError] = TokenSequenceError
    ) -> tuple[list[int], list[int]]:
        """Atoms of level-2 ``ids``, and for each atom the position of the token it came from; ``error`` (with
        the position) for an id that is no atom and no learned segment."""
        atoms: list[int] = []
        where: list[int] = []
        n = len(self.expansions)
        for pos, t in enumerate(ids):
            t = int(t)
            if 0 <= t < self.base:
                atoms.append(t)
                where.append(pos)
            elif self.base <= t < self.base + n:
                e = self.expansions[t - self.base]
                atoms.extend(e)
                where.extend([pos] * len(e))
            else:
                what = "an unused segment id" if t < vocab_size else "out of the vocabulary"
                raise error(f"id {t} is {what} ({n} segments learned, vocabulary {vocab_size})", pos)
        return atoms, where


def learn_segments(
    paths: Iterable[Sequence[Unit]], base: int, capacity: int, max_atoms: int, min_count: int = 2
) -> SegmentTable:
    """Learn up to ``capacity`` segments from the words of a training split (each a list of units)."""
    words = Counter(tuple(p) for p in paths)
    sym_atoms: list[Unit] = []
    sym_of: dict[Unit, int] = {}

    def sym(atoms: Unit) -> int:
        if atoms not in sym_of:
            sym_of[atoms] = len(sym_atoms)
            sym_atoms.append(atoms)
        return sym_of[atoms]

    seqs = [[sym(u) for u in w] for w in words]
    freq = list(words.values())
    base_units = set(range(len(sym_atoms)))
    promoted: set[int] = set()
    pair_count: Counter[tuple[int, int]] = Counter()
    sym_count: Counter[int] = Counter()
    where: defaultdict[tuple[int, int], set[int]] = defaultdict(set)
    heap: list[tuple[int, int, tuple[int, ...]]] = []

    def cost(s: int) -> int:
        return 1 if s in promoted or s not in base_units else len(sym_atoms[s])

    def pair_saving(p: tuple[int, int]) -> int:
        if pair_count[p] < min_count or len(sym_atoms[p[0]]) + len(sym_atoms[p[1]]) > max_atoms:
            return 0
        return pair_count[p] * (cost(p[0]) + cost(p[1]) - 1)

    def unit_saving(s: int) -> int:
        if s in promoted or sym_count[s] < min_count:
            return 0
        return sym_count[s] * (len(sym_atoms[s]) - 1)

    def account(w: int, sign: int) -> None:
        seq, c = seqs[w], freq[w] * sign
        for s in seq:
            sym_count[s] += c
        for p in pairwise(seq):
            pair_count[p] += c
            if sign > 0:
                where[p].add(w)
                heapq.heappush(heap, (-pair_saving(p), 1, p))

    for w in range(len(seqs)):
        account(w, 1)
    for s in base_units:
        if len(sym_atoms[s]) > 1:
            heapq.heappush(heap, (-unit_saving(s), 0, (s,)))

    expansions: list[Unit] = []
    splits: list[int] = []
    while heap and len(expansions) < capacity:
        neg, kind, key = heapq.heappop(heap)
        now = unit_saving(key[0]) if kind == 0 else pair_saving(key)  # type: ignore[arg-type]
        if now <= 0:
            continue
        if now != -neg:
            heapq.heappush(heap, (-now, kind, key))
            continue
        if kind == 0:
            promoted.add(key[0])
            expansions.append(sym_atoms[key[0]])
            splits.append(0)
            continue
        a, b = key
        new = sym(sym_atoms[a] + sym_atoms[b])
        expansions.append(sym_atoms[new])
        splits.append(len(sym_atoms[a]))
        for w in list(where[key]):
            seq = seqs[w]
            if not any(seq[i] == a and seq[i + 1] == b for i in range(len(seq) - 1)):
                continue
            account(w, -1)
            merged, i = [], 0
            while i < len(seq):
                if i < len(seq) - 1 and seq[i] == a and seq[i + 1] == b:
                    merged.append(new)
                    i += 2
                else:
                    merged.append(seq[i])
                    i += 1
            seqs[w] = merged
            account(w, 1)
    return SegmentTable(base, expansions, splits)
