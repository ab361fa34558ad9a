"""The grammar of level-1 SVG tokens as an incremental parser: validation, decoding and constrained decoding.

The parser reads one atom at a time, knows exactly which atoms may come next (``allowed()``, a boolean mask
over the atomic vocabulary), and keeps every point on the grid's coordinate range: a delta is only allowed if
it keeps the (quantized) point inside it. This is the constraint a generator needs to emit only executable
SVG programs, as in HiVG ("Hierarchical SVG Tokenization", 2026), whose segment tokens preserve syntactic
validity. Grammar (see :mod:`tokzoo.svg.atoms`)::

    doc    := path* END
    path   := PATH fill stroke M x y cmd* PATH_END
    fill   := FILL_NONE | FILL_c OPACITY_k rule | FILL_LINEAR x y x y FILL_c OPACITY_k FILL_c OPACITY_k rule
    rule   := RULE_NONZERO | RULE_EVENODD
    stroke := STROKE_NONE | STROKE_c INT(width) OPACITY_k (STYLE_solid | STYLE_dashed INT(dash) INT(gap))
    cmd    := m|l|t dx dy | h dx | v dy | c 6*d | s|q 4*d | a rx ry rot FLAGS dx dy | z
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


@dataclass
class ParsedPath:
    """A path read so far: its header atoms and its complete commands ``(letter, params)``."""

    header: list[int] = field(default_factory=list)
    commands: list[tuple[str, tuple[int, ...]]] = field(default_factory=list)


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
            return [(v.cmd("M"), v.cmd("M") + 1)], "M (a path starts with an absolute move)"
        if ph == Phase.BODY:
            return [
                (v.cmd("m"), v.cmd("z") + 1),
                (Vocab.PATH_END, Vocab.PATH_END + 1),
            ], "a command or PATH_END"
        kind = _PARAMS[self.cmd][len(self.params)]
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
        base = self.cur[0] if kind == "dx" else self.cur[1]
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
            self.params.append(
                t - v.flag0 if _PARAMS[self.cmd][len(self.params)] == "flags" else t - v.value0
            )
        if len(self.params) == len(_PARAMS[self.cmd]):
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
            Phase.STROKE: Phase.FIRST if t == Vocab.STROKE_NONE else Phase.WIDTH,
            Phase.WIDTH: Phase.STROKE_OPACITY,
            Phase.STROKE_OPACITY: Phase.STYLE,
        }[ph]

    def _finish(self) -> None:
        c, p = self.cmd, self.params
        x, y = self.cur
        if c == "M":
            self.cur = self.start = (p[0], p[1])
        elif c == "m":
            self.cur = self.start = (x + p[0], y + p[1])
        elif c == "z":
            self.cur = self.start
        elif c == "h":
            self.cur = (x + p[0], y)
        elif c == "v":
            self.cur = (x, y + p[0])
        else:
            self.cur = (x + p[-2], y + p[-1])
        self.paths[-1].commands.append((c, tuple(p)))
        self.phase = Phase.BODY
