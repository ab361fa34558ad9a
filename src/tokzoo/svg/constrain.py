"""Constrained decoding over segment tokens: which level-2 ids may come next after a prefix.

An atom is allowed when the level-1 grammar allows it (:class:`~tokzoo.svg.grammar.Level1Parser`). A segment
token (a run of whole units, HiVG "Hierarchical SVG Tokenization", 2026) is allowed at a unit boundary of
the phase its first unit needs, when every point it visits stays on the grid's coordinate range. Its points
are precomputed relative to the current point, the subpath start, or absolute, so the check is vectorised.
"""

from __future__ import annotations

import numpy as np

from tokzoo.svg.grammar import BOUNDARY_PHASES, Level1Parser, Phase
from tokzoo.svg.segments import SegmentTable
from tokzoo.svg.vocab import Vocab

__all__ = ["SegmentGeometry"]

_BASES = ("cur", "start", "abs")


class SegmentGeometry:
    """For each segment: the phase it starts in, and per base the bounding box of the points it visits."""

    def __init__(self, table: SegmentTable, vocab: Vocab) -> None:
        self.vocab = vocab
        self.base = table.base
        n = len(table.expansions)
        self.phase = np.zeros(n, dtype=np.int64)
        self.lo = {b: np.full((n, 2), np.iinfo(np.int64).max // 4, dtype=np.int64) for b in _BASES}
        self.hi = {b: np.full((n, 2), np.iinfo(np.int64).min // 4, dtype=np.int64) for b in _BASES}
        for k, atoms in enumerate(table.expansions):
            self._scan(k, atoms)

    def _scan(self, k: int, atoms: tuple[int, ...]) -> None:
        v = self.vocab
        first = v.command_of(atoms[0])
        self.phase[k] = Phase.DOC if atoms[0] == Vocab.PATH else Phase.FIRST if first == "M" else Phase.BODY
        cur, start = ("cur", (0, 0)), ("start", (0, 0))

        def visit(base: str, x: int, y: int) -> None:
            self.lo[base][k] = np.minimum(self.lo[base][k], (x, y))
            self.hi[base][k] = np.maximum(self.hi[base][k], (x, y))

        i = 0
        while i < len(atoms):
            letter = v.command_of(atoms[i])
            if letter is None:  # header atoms and PATH_END carry no geometry
                i += 1
                continue
            n = {"M": 2, "m": 2, "l": 2, "t": 2, "h": 1, "v": 1, "c": 6, "s": 4, "q": 4, "a": 6, "z": 0}[
                letter
            ]
            p = [t - v.value0 for t in atoms[i + 1 : i + 1 + n]]
            i += 1 + n
            (b, (x, y)) = cur
            if letter == "M":
                cur = start = ("abs", (p[0], p[1]))
                visit("abs", p[0], p[1])
                continue
            if letter == "z":
                cur = start
                continue
            if letter == "h":
                pts = [(p[0], 0)]
            elif letter == "v":
                pts = [(0, p[0])]
            elif letter == "a":
                pts = [(p[4], p[5])]
            else:
                pts = list(zip(p[0::2], p[1::2], strict=True))
            for dx, dy in pts:
                visit(b, x + dx, y + dy)
            cur = (b, (x + pts[-1][0], y + pts[-1][1]))
            if letter == "m":
                start = cur

    def allowed(self, parser: Level1Parser) -> np.ndarray:
        """Boolean mask over the segments for the parser's current state."""
        n = len(self.phase)
        if parser.phase not in BOUNDARY_PHASES or n == 0:
            return np.zeros(n, dtype=bool)
        lo, hi = parser.lo, parser.hi
        ok = self.phase == parser.phase
        for base, origin in (("cur", parser.cur), ("start", parser.start), ("abs", (0, 0))):
            o = np.asarray(origin)
            ok &= np.all(self.lo[base] + o >= lo, axis=1) | (self.lo[base][:, 0] > self.hi[base][:, 0])
            ok &= np.all(self.hi[base] + o <= hi, axis=1) | (self.lo[base][:, 0] > self.hi[base][:, 0])
        return ok
