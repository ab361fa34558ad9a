"""The grammar of level-1 SVG tokens as an incremental parser: validation, decoding and constrained decoding.

The parser reads one atom at a time, knows exactly which atoms may come next (``allowed()``, a boolean mask
over the atomic vocabulary), and keeps every point on the grid's coordinate range: a delta is only allowed if
it keeps the (quantized) point inside it. This is the constraint a generator needs to emit only executable
SVG programs, as in HiVG ("Hierarchical SVG Tokenization", 2026), whose segment tokens preserve syntactic
validity. Grammar (see :mod:`tokzoo.svg.atoms`)::

    doc    := path* END
    path   := PATH fill stroke M x y cmd* PATH_END | PATH FILL_NONE stroke' FINE M x y r fcmd* PATH_END
    fill   := FILL_NONE | FILL_c OPACITY_k rule | FILL_LINEAR x y x y FILL_c OPACITY_k FILL_c OPACITY_k rule
    rule   := RULE_NONZERO | RULE_EVENODD
    stroke := STROKE_NONE | STROKE_c INT(width) OPACITY_k (STYLE_solid | STYLE_dashed INT(dash) INT(gap))
    cmd    := m|l|t dx dy | h dx | v dy | c 6*d | s|q 4*d | a rx ry rot FLAGS dx dy | z
    fcmd   := m|l|t dx dy r | h dx r | v dy r | c 3*(dx dy r) | s|q 2*(dx dy r) | a rx ry rot FLAGS dx dy r | z

where stroke' is a stroke other than STROKE_NONE (FINE paths are stroke-only) and r a residual atom (FINE
paths, :mod:`tokzoo.svg.atoms`): a fine point ``P = cell * n + residual`` (n = 2^fine_bits) must lie in
``coord_range * n``, so on the upper edge cell only a zero remainder is allowed; h carries (rx, 0), v (0, ry).
Inside a path the parser's ``cur`` and ``start`` are lattice points (``scale`` = n in a FINE path, else 1) and
each command is stored with its points relative to the previous lattice point (absolute for M) in lattice
units.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tokzoo.svg.errors import SvgTokenError
from tokzoo.svg.vocab import ARITY, Vocab

__all__ = ["BOUNDARY_PHASES", "Level1Parser", "ParsedPath", "Phase"]


class Phase:
    """Parser positions; DOC, FIRST and BODY are the boundaries between whole units."""

    DOC, DONE, FILL, FILL_OPACITY, RULE, STROKE, WIDTH, STROKE_OPACITY, FIRST, BODY, PARAM = range(11)
    GRAD, STOP_COLOUR, STOP_OPACITY, STYLE, DASH = range(11, 16)


BOUNDARY_PHASES = (Phase.DOC, Phase.FIRST, Phase.BODY)

# Parameter kinds of each command: x/y absolute, dx/dy deltas from the current point, r radius, rot, flags.
_PARAMS = {
    "M": ("x", "y"),
    "m": ("dx", "dy"),
    "l": ("dx", "dy"),
    "t": ("dx", "dy"),
    "h": ("dx",),
    "v": ("dy",),
    "c": ("dx", "dy") * 3,
    "s": ("dx", "dy") * 2,
    "q": ("dx", "dy") * 2,
    "a": ("r", "r", "rot", "flags", "dx", "dy"),
    "z": (),
}
assert all(len(p) == ARITY[c] + (c == "a") for c, p in _PARAMS.items())
# In a FINE path each point is followed by its residual: "rxy" (both remainders), "rx" (h), "ry" (v).
_RESIDUALS = ("rxy", "rx", "ry")
_FINE_PARAMS = {
    "M": ("x", "y", "rxy"),
    "m": ("dx", "dy", "rxy"),
    "l": ("dx", "dy", "rxy"),
    "t": ("dx", "dy", "rxy"),
    "h": ("dx", "rx"),
    "v": ("dy", "ry"),
    "c": ("dx", "dy", "rxy") * 3,
    "s": ("dx", "dy", "rxy") * 2,
    "q": ("dx", "dy", "rxy") * 2,
    "a": ("r", "r", "rot", "flags", "dx", "dy", "rxy"),
    "z": (),
}


@dataclass
class ParsedPath:
    """A path read so far: its header atoms and its complete commands ``(letter, params)``, whose points are
    in lattice units (``scale`` per grid step: 2^fine_bits in a FINE path, else 1) relative to the previous
    point (absolute for M); radii, rotation and flags of ``a`` as read."""

    header: list[int] = field(default_factory=list)
    commands: list[tuple[str, tuple[int, ...]]] = field(default_factory=list)
    scale: int = 1


class Level1Parser:
    """Incremental parser of level-1 atoms; ``feed`` raises :class:`SvgTokenError` at the first bad atom."""

    def __init__(self, vocab: Vocab) -> None:
        self.vocab = vocab
        self.lo, self.hi = vocab.coord_range
        self.phase = Phase.DOC
        self.cur = (0, 0)
        self.start = (0, 0)
        self.cmd = ""
        self.params: list[int] = []
        self.paths: list[ParsedPath] = []
        self.position = 0
        self.count = 0  # atoms read in a repeated header part (gradient coordinates, stops, dash lengths)
        self.stroke_only = False  # the current path has a stroke and no fill (so FINE may end its header)
        self.scale = 1  # lattice points per grid step in the current path: 2^fine_bits after FINE

    @property
    def fine(self) -> bool:
        """Whether the current path is a FINE path."""
        return self.scale > 1

    def _cell(self, axis: int) -> int:
        """The grid cell of the current point on ``axis``: what deltas are relative to."""
        return self.cur[axis] // self.scale

    def _params(self) -> tuple[str, ...]:
        return (_FINE_PARAMS if self.fine else _PARAMS)[self.cmd]

    def _residual_ranges(self, kind: str) -> list[tuple[int, int]]:
        """Residual atoms that keep the point (its cell is read) in range: the top cell takes remainder 0."""
        v, n = self.vocab, self.vocab.fine_steps
        if kind == "rxy":
            cells = self.params[-2:]
            base = (0, 0) if self.cmd == "M" else (self._cell(0), self._cell(1))
            free = [base[i] + cells[i] < self.hi for i in (0, 1)]
        else:
            axis = 0 if kind == "rx" else 1
            free = [False, False]
            free[axis] = self._cell(axis) + self.params[-1] < self.hi
        xs = range(n) if free[0] else range(1)
        if free[1]:
            return [(v.res(xs[0], 0), v.res(xs[-1], n - 1) + 1)]
        return [(v.res(rx, 0), v.res(rx, 0) + 1) for rx in xs]

    def _ranges(self) -> tuple[list[tuple[int, int]], str]:
        """Allowed atoms as half-open id ranges, and what they are (for error messages)."""
        v, ph = self.vocab, self.phase
        if ph == Phase.DOC:
            return [(Vocab.END, Vocab.PATH + 1)], "PATH or END"
        if ph == Phase.DONE:
            return [], "nothing after END"
        if ph == Phase.FILL:
            return [
                (Vocab.FILL_NONE, Vocab.FILL_NONE + 1),
                (Vocab.FILL_LINEAR, Vocab.FILL_LINEAR + 1),
                (v.fill0, v.stroke0),
            ], "a fill colour, FILL_LINEAR or FILL_NONE"
        if ph == Phase.GRAD:
            return [(v.value(self.lo), v.value(self.hi) + 1)], (
                f"a gradient point coordinate in [{self.lo}, {self.hi}]"
            )
        if ph == Phase.STOP_COLOUR:
            return [(v.fill0, v.stroke0)], "a gradient stop colour (a fill colour)"
        if ph == Phase.STYLE:
            return [(v.style0, v.fill0)], "a stroke style"
        if ph == Phase.DASH:
            return [(v.value(0), v.value(v.max_value) + 1)], "a dash or gap length in [0, V]"
        if ph == Phase.STROKE:
            return [(Vocab.STROKE_NONE, Vocab.STROKE_NONE + 1), (v.stroke0, v.opacity0)], (
                "a stroke colour or STROKE_NONE"
            )
        if ph in (Phase.FILL_OPACITY, Phase.STROKE_OPACITY, Phase.STOP_OPACITY):
            return [(v.opacity0, v.opacity0 + v.opacity)], "an opacity"
        if ph == Phase.RULE:
            return [(Vocab.RULE_NONZERO, Vocab.RULE_EVENODD + 1)], "a fill rule"
        if ph == Phase.WIDTH:
            return [(v.value(0), v.value(v.max_value) + 1)], "a stroke width in [0, V]"
        if ph == Phase.FIRST:
            if self.stroke_only and not self.fine and v.fine_bits:
                return [(v.cmd("M"), v.cmd("M") + 1), (v.fine, v.fine + 1)], "M or FINE"
            return [(v.cmd("M"), v.cmd("M") + 1)], "M (a path starts with an absolute move)"
        if ph == Phase.BODY:
            return [
                (v.cmd("m"), v.cmd("z") + 1),
                (Vocab.PATH_END, Vocab.PATH_END + 1),
            ], "a command or PATH_END"
        kind = self._params()[len(self.params)]
        if kind in _RESIDUALS:
            what = {
                "rx": "a residual of x alone (h keeps y: remainder 0)",
                "ry": "a residual of y alone (v keeps x)",
            }
            return self._residual_ranges(kind), what.get(
                kind, "a residual"
            ) + " that keeps the point in range"
        if kind == "flags":
            return [(v.flag0, v.flag0 + 4)], "arc flags"
        if kind == "r":
            return [(v.value(0), v.value(v.max_value) + 1)], "a radius in [0, V]"
        if kind == "rot":
            return [(v.value(0), v.value(179) + 1)], "a rotation in [0, 179] degrees"
        if kind in ("x", "y"):
            return [
                (v.value(self.lo), v.value(self.hi) + 1)
            ], f"an absolute coordinate in [{self.lo}, {self.hi}]"
        base = self._cell(0 if kind == "dx" else 1)
        lo, hi = self.lo - base, self.hi - base
        return [
            (v.value(lo), v.value(hi) + 1)
        ], f"a delta in [{lo}, {hi}] (keeps the point on the grid range)"

    def allowed(self) -> np.ndarray:
        """Boolean mask over the atomic vocabulary: which atoms may come next."""
        mask = np.zeros(self.vocab.size, dtype=bool)
        for a, b in self._ranges()[0]:
            mask[a:b] = True
        return mask

    def feed(self, token: int, position: int | None = None) -> None:
        """Consume one atom (``position`` is reported in errors; default: atoms fed so far)."""
        pos = self.position if position is None else position
        ranges, what = self._ranges()
        if not any(a <= token < b for a, b in ranges):
            got = (
                self.vocab.name(token) if 0 <= token < self.vocab.size else f"id {token} (out of vocabulary)"
            )
            raise SvgTokenError(f"expected {what}, got {got}", pos)
        self.position += 1
        self._advance(token)

    def _advance(self, t: int) -> None:
        v, ph = self.vocab, self.phase
        if ph == Phase.DOC:
            if t == Vocab.END:
                self.phase = Phase.DONE
            else:
                self.paths.append(ParsedPath([t]))
                self.phase = Phase.FILL
                self.stroke_only, self.scale = False, 1
            return
        if ph == Phase.FIRST and v.fine_bits and t == v.fine:
            self.paths[-1].header.append(t)
            self.scale = self.paths[-1].scale = v.fine_steps
            return
        if ph not in (Phase.FIRST, Phase.BODY, Phase.PARAM):
            self.paths[-1].header.append(t)
            self.phase = self._next_header_phase(ph, t)
            return
        if ph in (Phase.FIRST, Phase.BODY):
            if t == Vocab.PATH_END:
                self.phase = Phase.DOC
                return
            self.cmd, self.params = v.command_of(t) or "", []
        else:
            kind = self._params()[len(self.params)]
            offset = v.flag0 if kind == "flags" else v.res0 if kind in _RESIDUALS else v.value0
            self.params.append(t - offset)
        if len(self.params) == len(self._params()):
            self._finish()
        else:
            self.phase = Phase.PARAM

    def _next_header_phase(self, ph: int, t: int) -> int:
        v = self.vocab
        if ph == Phase.FILL:
            self.count = 0
            return {Vocab.FILL_NONE: Phase.STROKE, Vocab.FILL_LINEAR: Phase.GRAD}.get(t, Phase.FILL_OPACITY)
        if ph == Phase.GRAD:
            self.count += 1
            if self.count < 4:
                return Phase.GRAD
            self.count = 0
            return Phase.STOP_COLOUR
        if ph == Phase.STOP_COLOUR:
            return Phase.STOP_OPACITY
        if ph == Phase.STOP_OPACITY:
            self.count += 1
            return Phase.STOP_COLOUR if self.count < 2 else Phase.RULE
        if ph == Phase.STYLE:
            self.count = 0
            return Phase.DASH if v.style_of(t)[2] else Phase.FIRST
        if ph == Phase.DASH:
            self.count += 1
            return Phase.DASH if self.count < 2 else Phase.FIRST
        return {
            Phase.FILL_OPACITY: Phase.RULE,
            Phase.RULE: Phase.STROKE,
            Phase.STROKE: self._stroke(t),
            Phase.WIDTH: Phase.STROKE_OPACITY,
            Phase.STROKE_OPACITY: Phase.STYLE,
        }[ph]

    def _stroke(self, t: int) -> int:
        self.stroke_only = t != Vocab.STROKE_NONE and self.paths[-1].header[1] == Vocab.FILL_NONE
        return Phase.FIRST if t == Vocab.STROKE_NONE else Phase.WIDTH

    def _finish(self) -> None:
        """Resolve the command's points on the lattice, store it, move the current point."""
        c, n, cur = self.cmd, self.scale, self.cur
        kinds, p = self._params(), self.params
        cell = (0, 0) if c == "M" else (self._cell(0), self._cell(1))
        points: list[tuple[int, int]] = []
        i = 0
        while i < len(kinds):
            k = kinds[i]
            if k in ("x", "dx") and i + 1 < len(kinds) and kinds[i + 1] in ("y", "dy"):
                res = divmod(p[i + 2], n) if self.fine else (0, 0)
                points.append(((cell[0] + p[i]) * n + res[0], (cell[1] + p[i + 1]) * n + res[1]))
                i += 3 if self.fine else 2
            elif k in ("dx", "dy"):  # h / v: one coordinate, the other is kept
                axis = 0 if k == "dx" else 1
                r = divmod(p[i + 1], n)[axis] if self.fine else 0
                pt = list(cur)
                pt[axis] = (cell[axis] + p[i]) * n + r
                points.append((pt[0], pt[1]))
                i += 2 if self.fine else 1
            else:
                i += 1
        if c == "z":
            self.cur = self.start
            stored: tuple[int, ...] = ()
        elif c == "M":
            self.cur = self.start = points[0]
            stored = points[0]
        else:
            rel = [(q[0] - cur[0], q[1] - cur[1]) for q in points]
            if c in ("h", "v"):
                stored = (rel[0][0 if c == "h" else 1],)
            elif c == "a":
                stored = (*p[:4], *rel[0])
            else:
                stored = tuple(d for q in rel for d in q)
            self.cur = points[-1]
            if c == "m":
                self.start = self.cur
        self.paths[-1].commands.append((c, stored))
        self.phase = Phase.BODY
