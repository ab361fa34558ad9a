"""Constrained decoding over segment tokens: which level-2 ids may come next after a prefix.

An atom is allowed when the level-1 grammar allows it (:class:`~tokzoo.svg.grammar.Level1Parser`). A segment
token (a run of whole units, HiVG "Hierarchical SVG Tokenization", 2026) is allowed at a unit boundary of
the phase its first unit needs, when every point it visits stays on the grid's coordinate range. Its points
are precomputed relative to the current point, the subpath start, or absolute, so the check is vectorised.
"""

from __future__ import annotations

import numpy as np

from tokzoo.core.unit_bpe import SegmentTable
from tokzoo.svg.grammar import BOUNDARY_PHASES, Level1Parser, Phase
from tokzoo.svg.vocab import ARITY, Vocab

__all__ = ["SegmentGeometry"]

_BASES = ("cur", "start", "abs")
_SIZES = {c: n + (c == "a") for c, n in ARITY.items()}  # integer and flag atoms after each command letter
_ANY, _COARSE, _FINE = -1, 0, 1  # which paths a segment starting inside a path fits


class SegmentGeometry:
    """For each segment: the phase it starts in, which paths it fits (coarse, FINE or any: no points) and per
    base the bounding box of the points it visits, in lattice units (``scale`` per grid step), relative to
    the base's grid cell (current point, subpath start) or absolute.

    In a FINE path a point is ``(cell + delta) * n + residual`` and the next deltas are relative to its cell,
    so every point's lattice offset from the base's cell is known exactly from the segment's atoms alone: the
    check is exact, not conservative. h/v visit only the axis they move (the other is a point already in
    range)."""

    def __init__(self, table: SegmentTable, vocab: Vocab) -> None:
        self.vocab = vocab
        self.base = table.base
        n = len(table.expansions)
        self.phase = np.zeros(n, dtype=np.int64)
        self.fits = np.full(n, _ANY, dtype=np.int64)
        self.scale = np.ones(n, dtype=np.int64)
        self.lo = {b: np.full((n, 2), np.iinfo(np.int64).max // 4, dtype=np.int64) for b in _BASES}
        self.hi = {b: np.full((n, 2), np.iinfo(np.int64).min // 4, dtype=np.int64) for b in _BASES}
        for k, atoms in enumerate(table.expansions):
            self._scan(k, atoms)

    def _scan(self, k: int, atoms: tuple[int, ...]) -> None:
        v = self.vocab
        first = v.command_of(atoms[0])
        self.phase[k] = Phase.DOC if atoms[0] == Vocab.PATH else Phase.FIRST if first == "M" else Phase.BODY
        fine = any(v.is_res(t) for t in atoms)
        n = v.fine_steps if fine else 1
        self.scale[k] = n
        cur, start = ("cur", (0, 0)), ("start", (0, 0))  # (base, grid cell relative to the base's cell)

        def visit(base: str, axis: int, cell: int, residual: int) -> None:
            value = cell * n + residual
            self.lo[base][k, axis] = min(self.lo[base][k, axis], value)
            self.hi[base][k, axis] = max(self.hi[base][k, axis], value)

        i = 0
        while i < len(atoms):
            letter = v.command_of(atoms[i])
            if letter is None:  # header atoms and PATH_END carry no geometry
                i += 1
                continue
            size = _SIZES[letter]
            count = size + fine * (1 if letter in ("h", "v", "a") else size // 2)  # a residual per point
            p = atoms[i + 1 : i + 1 + count]
            i += 1 + count
            if letter != "z" and self.phase[k] != Phase.DOC:
                self.fits[k] = _FINE if fine else _COARSE
            b, (x, y) = cur
            if letter == "z":
                cur = start
                continue
            if letter in ("h", "v"):
                axis = 0 if letter == "h" else 1
                cell = (x, y)[axis] + p[0] - v.value0
                visit(b, axis, cell, v.res_of(p[1])[axis] if fine else 0)
                cur = (b, (cell, y) if axis == 0 else (x, cell))
                continue
            if letter == "M":
                b, x, y = "abs", 0, 0
            points = p[4:] if letter == "a" else p
            stride = 2 + fine
            for j in range(0, len(points), stride):
                dx, dy = points[j] - v.value0, points[j + 1] - v.value0
                rx, ry = v.res_of(points[j + 2]) if fine else (0, 0)
                visit(b, 0, x + dx, rx)
                visit(b, 1, y + dy, ry)
            cur = (b, (x + dx, y + dy))
            if letter in ("M", "m"):
                start = cur

    def allowed(self, parser: Level1Parser) -> np.ndarray:
        """Boolean mask over the segments for the parser's current state."""
        n = len(self.phase)
        if parser.phase not in BOUNDARY_PHASES or n == 0:
            return np.zeros(n, dtype=bool)
        ok = (self.phase == parser.phase) & ((self.fits == _ANY) | (self.fits == int(parser.fine)))
        scale = self.scale[:, None]
        lo, hi = parser.lo * scale, parser.hi * scale
        for base, origin in (("cur", parser.cur), ("start", parser.start), ("abs", (0, 0))):
            cell = np.asarray(origin) // parser.scale * scale  # the base's cell on the segment's lattice
            empty = self.lo[base] > self.hi[base]
            ok &= np.all(empty | ((self.lo[base] + cell >= lo) & (self.hi[base] + cell <= hi)), axis=1)
        return ok
