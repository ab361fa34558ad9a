"""Level 1 of HiVG ("Hierarchical SVG Tokenization", 2026): atomic tokens of grid-quantized paths.

Each path becomes a list of *units*, the atoms of one complete syntactic group:

    header   PATH  (FILL_NONE | FILL_c OPACITY_k RULE_*)  (STROKE_NONE | STROKE_c INT(width*4) OPACITY_k)
    first    M INT(x) INT(y)                                   absolute, on the integer grid
    command  m|l|h|v|c|s|q|t|a|z INT...                       relative to the *quantized* current point
    end      PATH_END

so coordinates never drift: every point is rounded to the grid first, then differenced. Zero-length lines and
arcs are dropped, lines become ``h``/``v`` when axis-aligned and curves become ``s``/``t`` when their first
control point is the reflection of the previous one. A point outside the grid's range (canvas plus half a
canvas each side) is clamped to it and counted. An arc is ``a INT(rx) INT(ry) INT(rot°) FLAGS_ls INT(dx)
INT(dy)``. A document is the units of all its paths followed by END.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tokzoo.svg.palette import nearest_colour
from tokzoo.svg.parse import Shape
from tokzoo.svg.vocab import Vocab

__all__ = ["STROKE_STEPS", "Level1", "encode_shapes", "quantize"]

STROKE_STEPS = 4  # stroke widths are integers in quarter grid steps

Unit = tuple[int, ...]


@dataclass
class Level1:
    """Atomic tokens of one document: ``paths[i]`` is the list of units of path i; ``clamped`` points."""

    paths: list[list[Unit]]
    clamped: int

    def atoms(self) -> list[int]:
        """The flat level-1 sequence, END included."""
        return [t for path in self.paths for unit in path for t in unit] + [Vocab.END]


def quantize(v: float, lo: int, hi: int) -> tuple[int, bool]:
    """``v`` rounded to the nearest integer (halves up) and clamped to [lo, hi]; and whether it was clamped."""
    q = math.floor(v + 0.5)
    return min(max(q, lo), hi), not lo <= q <= hi


def _opacity(vocab: Vocab, alpha: float) -> int:
    return vocab.opacity0 + round(min(max(alpha, 0.0), 1.0) * (vocab.opacity - 1))


def _header(shape: Shape, vocab: Vocab, palette: np.ndarray) -> Unit:
    out = [Vocab.PATH]
    if shape.fill is None:
        out.append(Vocab.FILL_NONE)
    else:
        rule = Vocab.RULE_EVENODD if shape.evenodd else Vocab.RULE_NONZERO
        out += [vocab.fill0 + nearest_colour(palette, shape.fill), _opacity(vocab, shape.fill_opacity), rule]
    if shape.stroke is None:
        out.append(Vocab.STROKE_NONE)
    else:
        width = min(max(1, round(shape.stroke_width * STROKE_STEPS)), vocab.max_value)
        out += [vocab.stroke0 + nearest_colour(palette, shape.stroke), vocab.value(width)]
        out.append(_opacity(vocab, shape.stroke_opacity))
    return tuple(out)


class _PathEncoder:
    """Quantizes one path's segments, tracking the quantized current point, subpath start and last control."""

    def __init__(self, vocab: Vocab) -> None:
        self.vocab = vocab
        self.lo, self.hi = vocab.coord_range
        self.cur = (0, 0)
        self.start = (0, 0)
        self.ctrl: tuple[str, tuple[int, int]] | None = None  # ("c"|"q", absolute last control point)
        self.clamped = 0
        self.units: list[Unit] = []

    def q(self, p: tuple[float, float]) -> tuple[int, int]:
        (x, cx), (y, cy) = quantize(p[0], self.lo, self.hi), quantize(p[1], self.lo, self.hi)
        self.clamped += cx + cy
        return x, y

    def rel(self, p: tuple[int, int]) -> list[int]:
        return [self.vocab.value(p[0] - self.cur[0]), self.vocab.value(p[1] - self.cur[1])]

    def emit(self, name: str, params: list[int], end: tuple[int, int], ctrl=None) -> None:
        self.units.append((self.vocab.cmd(name), *params))
        self.cur, self.ctrl = end, ctrl

    def add(self, seg: tuple) -> None:
        kind, v = seg[0], self.vocab
        if kind == "M":
            p = self.q(seg[1])
            if not self.units:
                self.emit("M", [v.value(p[0]), v.value(p[1])], p)
            else:
                self.emit("m", self.rel(p), p)
            self.start = p
        elif kind == "Z":
            self.emit("z", [], self.start)
        elif kind == "L":
            p = self.q(seg[1])
            dx, dy = p[0] - self.cur[0], p[1] - self.cur[1]
            if (dx, dy) == (0, 0):
                return
            if dy == 0:
                self.emit("h", [v.value(dx)], p)
            elif dx == 0:
                self.emit("v", [v.value(dy)], p)
            else:
                self.emit("l", self.rel(p), p)
        elif kind == "Q":
            c, p = self.q(seg[1]), self.q(seg[2])
            if self.ctrl and self.ctrl[0] == "q" and c == self._reflected():
                self.emit("t", self.rel(p), p, ("q", c))
            else:
                self.emit("q", self.rel(c) + self.rel(p), p, ("q", c))
        elif kind == "C":
            c1, c2, p = self.q(seg[1]), self.q(seg[2]), self.q(seg[3])
            if self.ctrl and self.ctrl[0] == "c" and c1 == self._reflected():
                self.emit("s", self.rel(c2) + self.rel(p), p, ("c", c2))
            else:
                self.emit("c", self.rel(c1) + self.rel(c2) + self.rel(p), p, ("c", c2))
        elif kind == "A":
            _, rx, ry, rot, large, sweep, end = seg
            p = self.q(end)
            if p == self.cur:
                return
            radii = [v.value(min(round(r), v.max_value)) for r in (rx, ry)]
            self.emit("a", [*radii, v.value(round(rot) % 180), v.flags(large, sweep), *self.rel(p)], p)

    def _reflected(self) -> tuple[int, int]:
        assert self.ctrl is not None
        return 2 * self.cur[0] - self.ctrl[1][0], 2 * self.cur[1] - self.ctrl[1][1]


def encode_shapes(shapes: list[Shape], vocab: Vocab, palette: np.ndarray) -> Level1:
    """Level-1 units of every shape (paths that quantize to nothing but moves are dropped)."""
    paths, clamped = [], 0
    for shape in shapes:
        enc = _PathEncoder(vocab)
        for seg in shape.segments:
            enc.add(seg)
        clamped += enc.clamped
        body = enc.units
        while body and body[-1][0] in (vocab.cmd("m"), vocab.cmd("M")):
            body.pop()  # trailing moves draw nothing
        if len(body) > 1:
            paths.append([_header(shape, vocab, palette), *body, (Vocab.PATH_END,)])
    return Level1(paths, clamped)
