"""Level 1 of HiVG ("Hierarchical SVG Tokenization", 2026): atomic tokens of grid-quantized paths.

Each path becomes a list of *units*, the atoms of one complete syntactic group:

    header   PATH  fill stroke
    fill     FILL_NONE | FILL_c OPACITY_k RULE_*
             | FILL_LINEAR INT(x1) INT(y1) INT(x2) INT(y2) FILL_c OPACITY_k FILL_c OPACITY_k RULE_*
    stroke   STROKE_NONE | STROKE_c INT(width*4) OPACITY_k STYLE_s [INT(dash*4) INT(gap*4) if s is dashed]
             [FINE]                                            (fine paths, below)
    first    M INT(x) INT(y) [RES]                             absolute, on the integer grid
    command  m|l|h|v|c|s|q|t|a|z INT... [RES after each point] relative to the *quantized* current point
    end      PATH_END

so coordinates never drift: every point is rounded to the grid first, then differenced. Zero-length lines and
arcs are dropped, lines become ``h``/``v`` when axis-aligned and curves become ``s``/``t`` when their first
control point is the reflection of the previous one. A point outside the grid's range (canvas plus half a
canvas each side) is clamped to it and counted. An arc is ``a INT(rx) INT(ry) INT(rot°) FLAGS_ls INT(dx)
INT(dy)``; its radii (each rounded down or up) and large-arc flag are chosen on the *quantized* arc, the one passing
nearest the original arc at a quarter, half and three quarters of its angle: rounding the radii of a
near-half ellipse independently can turn it into the other arc between the same two points.
A linear gradient's endpoints are absolute grid points. A document is the units of all its paths followed by
END.

Sub-grid precision: a stroke-only path (no fill) thinner than one grid step (``fine_below``; hairline line art,
whose render rounding to the grid destroys) ends its header with ``FINE`` when ``fine_bits`` b > 0. Its points are
quantized to 2^-b grid steps and the current point is tracked on that lattice; each point (M's, every delta
pair, an arc's endpoint, the one coordinate of h/v) is written as the usual integer(s) — its grid cell
``floor(P / 2^b)``, relative to the current point's cell — followed by ``RES_k``, k = rx * 2^b + ry, the
remainders (0 on the axis h/v keep). So the split is exact and still drift-free; h/v and s/t are decided on
the fine lattice, arc radii stay integers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from tokzoo.svg.palette import nearest_colour
from tokzoo.svg.parse import Shape
from tokzoo.svg.vocab import ARC_PROBES, Vocab

__all__ = ["STROKE_STEPS", "Level1", "arc_points", "canonical_arc", "encode_shapes", "is_fine", "quantize"]

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


def _steps(v: float, vocab: Vocab, low: int) -> int:
    """A length in quarter grid steps, as an integer token in [low, V]."""
    return vocab.value(min(max(low, round(v * STROKE_STEPS)), vocab.max_value))


def _header(shape: Shape, vocab: Vocab, palette: np.ndarray) -> tuple[Unit, int]:
    """The header unit of ``shape`` and how many gradient coordinates were clamped."""
    out, clamped = [Vocab.PATH], 0
    rule = Vocab.RULE_EVENODD if shape.evenodd else Vocab.RULE_NONZERO
    if shape.fill is None:
        out.append(Vocab.FILL_NONE)
    elif shape.linear is not None:
        lf, lo, hi = shape.linear, *vocab.coord_range
        out.append(Vocab.FILL_LINEAR)
        for v in (*lf.p1, *lf.p2):
            q, c = quantize(v, lo, hi)
            out.append(vocab.value(q))
            clamped += c
        for rgb, alpha in (lf.start, lf.end):
            out += [vocab.fill0 + nearest_colour(palette, rgb), _opacity(vocab, alpha)]
        out.append(rule)
    else:
        out += [vocab.fill0 + nearest_colour(palette, shape.fill), _opacity(vocab, shape.fill_opacity), rule]
    if shape.stroke is None:
        out.append(Vocab.STROKE_NONE)
    else:
        out += [vocab.stroke0 + nearest_colour(palette, shape.stroke), _steps(shape.stroke_width, vocab, 1)]
        out.append(_opacity(vocab, shape.stroke_opacity))
        dash = shape.dash
        if dash is not None and round(dash[0] * STROKE_STEPS) + round(dash[1] * STROKE_STEPS) <= 0:
            dash = None  # a pattern that rounds to nothing is solid
        out.append(vocab.style(shape.cap, shape.join, dash is not None))
        if dash is not None:
            out += [_steps(dash[0], vocab, 0), _steps(dash[1], vocab, 0)]
    return tuple(out), clamped


class _PathEncoder:
    """Quantizes one path's segments, tracking the quantized current point, subpath start and last control.

    Points live on a lattice of ``n`` steps per grid step (n = 1, or 2^fine_bits in a FINE path); a point P is
    written as the integer token(s) of its grid cell ``P // n`` relative to the current point's cell (absolute
    for the first M), followed in a fine path by the residual atom of ``P % n``."""

    def __init__(self, vocab: Vocab, fine: bool) -> None:
        self.vocab = vocab
        self.n = vocab.fine_steps if fine else 1
        self.fine = fine
        lo, hi = vocab.coord_range
        self.lo, self.hi = lo * self.n, hi * self.n
        self.cur = (0, 0)
        self.start = (0, 0)
        self.ctrl: tuple[str, tuple[int, int]] | None = None  # ("c"|"q", absolute last control point)
        self.clamped = 0
        self.units: list[Unit] = []

    def q(self, p: tuple[float, float]) -> tuple[int, int]:
        (x, cx), (y, cy) = (quantize(c * self.n, self.lo, self.hi) for c in p)
        self.clamped += cx + cy
        return x, y

    def point(self, p: tuple[int, int], axes: str = "xy", absolute: bool = False) -> list[int]:
        """Tokens of lattice point ``p`` on ``axes`` ("xy", "x" for h, "y" for v), relative to the current cell."""
        v, n = self.vocab, self.n
        base = (0, 0) if absolute else (self.cur[0] // n, self.cur[1] // n)
        out = [v.value(p[i] // n - base[i]) for i, a in enumerate("xy") if a in axes]
        if self.fine:
            rx, ry = p[0] % n if "x" in axes else 0, p[1] % n if "y" in axes else 0
            out.append(v.res(rx, ry))
        return out

    def emit(self, name: str, params: list[int], end: tuple[int, int], ctrl=None) -> None:
        self.units.append((self.vocab.cmd(name), *params))
        self.cur, self.ctrl = end, ctrl

    def add(self, seg: tuple) -> None:
        kind, v = seg[0], self.vocab
        if kind == "M":
            p = self.q(seg[1])
            if not self.units:
                self.emit("M", self.point(p, absolute=True), p)
            else:
                self.emit("m", self.point(p), p)
            self.start = p
        elif kind == "Z":
            self.emit("z", [], self.start)
        elif kind == "L":
            p = self.q(seg[1])
            dx, dy = p[0] - self.cur[0], p[1] - self.cur[1]
            if (dx, dy) == (0, 0):
                return
            if dy == 0:
                self.emit("h", self.point(p, "x"), p)
            elif dx == 0:
                self.emit("v", self.point(p, "y"), p)
            else:
                self.emit("l", self.point(p), p)
        elif kind == "Q":
            c, p = self.q(seg[1]), self.q(seg[2])
            if self.ctrl and self.ctrl[0] == "q" and c == self._reflected():
                self.emit("t", self.point(p), p, ("q", c))
            else:
                self.emit("q", self.point(c) + self.point(p), p, ("q", c))
        elif kind == "C":
            c1, c2, p = self.q(seg[1]), self.q(seg[2]), self.q(seg[3])
            if self.ctrl and self.ctrl[0] == "c" and c1 == self._reflected():
                self.emit("s", self.point(c2) + self.point(p), p, ("c", c2))
            else:
                self.emit("c", self.point(c1) + self.point(c2) + self.point(p), p, ("c", c2))
        elif kind == "A":
            _, rx, ry, rot, large, sweep, end, probes = seg
            p = self.q(end)
            if p == self.cur:
                return
            angle = round(rot) % 180
            start, stop = (self.cur[0] / self.n, self.cur[1] / self.n), (p[0] / self.n, p[1] / self.n)
            radii, large = _best_arc(start, stop, (rx, ry), angle, large, sweep, probes, v.max_value)
            radii, angle, large = canonical_arc(start, stop, radii, angle, large)
            params = [v.value(radii[0]), v.value(radii[1]), v.value(angle), v.flags(large, sweep)]
            self.emit("a", [*params, *self.point(p)], p)

    def _reflected(self) -> tuple[int, int]:
        assert self.ctrl is not None
        return 2 * self.cur[0] - self.ctrl[1][0], 2 * self.cur[1] - self.ctrl[1][1]


def arc_points(
    start: tuple[float, float],
    end: tuple[float, float],
    rx: float,
    ry: float,
    rot: float,
    large: int,
    sweep: int,
) -> list[tuple[float, float]] | None:
    """Points at :data:`ARC_PROBES` of an SVG endpoint-parameterised arc (SVG 1.1 F.6.5/F.6.6: radii scaled up
    when too small); None for a degenerate arc (zero radius or coincident ends), which SVG draws as a line."""
    if rx <= 0 or ry <= 0 or start == end:
        return None
    phi = math.radians(rot)
    cos, sin = math.cos(phi), math.sin(phi)
    dx, dy = (start[0] - end[0]) / 2, (start[1] - end[1]) / 2
    x1, y1 = cos * dx + sin * dy, -sin * dx + cos * dy
    lam = (x1 / rx) ** 2 + (y1 / ry) ** 2
    if lam > 1:
        rx, ry = rx * math.sqrt(lam), ry * math.sqrt(lam)
    num = rx * rx * ry * ry - rx * rx * y1 * y1 - ry * ry * x1 * x1
    den = rx * rx * y1 * y1 + ry * ry * x1 * x1
    k = math.sqrt(max(0.0, num / den)) * (-1 if large == sweep else 1)
    cx1, cy1 = k * rx * y1 / ry, -k * ry * x1 / rx
    theta1 = math.atan2((y1 - cy1) / ry, (x1 - cx1) / rx)
    theta2 = math.atan2((-y1 - cy1) / ry, (-x1 - cx1) / rx)
    delta = theta2 - theta1
    if sweep and delta < 0:
        delta += 2 * math.pi
    elif not sweep and delta > 0:
        delta -= 2 * math.pi
    cx = cos * cx1 - sin * cy1 + (start[0] + end[0]) / 2
    cy = sin * cx1 + cos * cy1 + (start[1] + end[1]) / 2
    out = []
    for f in ARC_PROBES:
        ex, ey = rx * math.cos(theta1 + f * delta), ry * math.sin(theta1 + f * delta)
        out.append((cx + cos * ex - sin * ey, cy + sin * ex + cos * ey))
    return out


def canonical_arc(
    start: tuple[float, float], end: tuple[float, float], radii: tuple[int, int], rot: int, large: int
) -> tuple[tuple[int, int], int, int]:
    """The one spelling of an arc among those that draw it: major radius first (``(rx, ry, rot)`` and
    ``(ry, rx, rot + 90)`` are one ellipse), rotation 0 for a circle, and large-arc flag 0 when the radii
    only just reach (or fall short of) the endpoints, where both flags draw the same half ellipse.

    A parsed arc comes back in this form (the parser gives the major radius first), so decoding and
    re-encoding gives the same tokens."""
    rx, ry = radii
    if rx < ry:
        rx, ry, rot = ry, rx, (rot + 90) % 180
    if rx == ry:
        rot = 0
    if rx > 0 and ry > 0 and _reach(start, end, (rx, ry), rot) >= 1 - 1e-9:
        large = 0
    return (rx, ry), rot, large


def _parses_back(
    start: tuple[float, float], end: tuple[float, float], radii: tuple[int, int], rot: float
) -> bool:
    """Whether integer ``radii`` survive SVG's scaling of too-short radii within the same integer part."""
    grow = math.sqrt(max(1.0, _reach(start, end, radii, rot)))
    return all(r * grow < r + 1 - 1e-6 for r in radii)


def _reach(
    start: tuple[float, float], end: tuple[float, float], radii: tuple[float, float], rot: float
) -> float:
    """SVG's Λ (F.6.6): above 1 the radii are too short to join the endpoints and are scaled by sqrt(Λ)."""
    phi = math.radians(rot)
    dx, dy = (start[0] - end[0]) / 2, (start[1] - end[1]) / 2
    x1, y1 = math.cos(phi) * dx + math.sin(phi) * dy, -math.sin(phi) * dx + math.cos(phi) * dy
    return (x1 / radii[0]) ** 2 + (y1 / radii[1]) ** 2


def _best_arc(start, end, radii, rot, large, sweep, probes, vmax) -> tuple[tuple[int, int], int]:
    """Integer radii (each rounded down or up) and large-arc flag whose quantized arc passes nearest the
    original arc's ``probes`` (its points at :data:`ARC_PROBES`); the nearest radii and the original flag win
    ties."""
    reach = _reach(start, end, radii, rot)
    if reach > 1:  # radii too short for the endpoints: SVG draws the half ellipse with radii scaled up
        radii = tuple(r * math.sqrt(reach) for r in radii)
    rounded = tuple(min(round(r), vmax) for r in radii)
    options = [(rounded, large)]
    for rx in sorted({min(math.floor(radii[0]), vmax), min(math.ceil(radii[0]), vmax)}):
        for ry in sorted({min(math.floor(radii[1]), vmax), min(math.ceil(radii[1]), vmax)}):
            options += [((rx, ry), large), ((rx, ry), 1 - large)]
    # only radii the decoded arc parses back to: the parser scales too-short radii up, so they must still
    # round down to themselves (43 for a chord of 88 would come back as 44)
    stable = [o for o in options if min(o[0]) > 0 and _parses_back(start, end, o[0], rot)]
    options = stable or options
    best, best_d = options[0], math.inf
    for (rx, ry), flag in options:
        pts = arc_points(start, end, rx, ry, rot, flag, sweep)
        if pts is None:  # a radius floored to 0: no arc with these radii, try the others
            continue
        d = sum((m[0] - o[0]) ** 2 + (m[1] - o[1]) ** 2 for m, o in zip(pts, probes, strict=True))
        if d < best_d - 1e-9:
            best, best_d = ((rx, ry), flag), d
    return best


def is_fine(shape: Shape, vocab: Vocab, fine_below: float) -> bool:
    """Whether ``shape`` is written as a FINE path: sub-grid precision is on and it is a stroke-only path
    thinner than ``fine_below`` grid steps (line art, whose drawing rounding every point to the grid destroys).
    A filled path keeps the grid even with a hairline outline: its fill is what shows, and such outlines
    (Inkscape's 0.02-step default) would cost a residual per point for nothing visible."""
    return (
        vocab.fine_bits > 0
        and shape.fill is None
        and shape.stroke is not None
        and shape.stroke_width < fine_below
    )


def _visible_paint(shape: Shape, vocab: Vocab, fine: bool, fine_below: float) -> Shape | None:
    """``shape`` as its tokens will draw it, so that the decoded file parses back to the same tokens: a solid
    fill or a stroke whose opacity rounds to level 0 is dropped (the parser drops invisible paint; None when
    nothing is left to draw), and a FINE path's stroke width stays below ``fine_below`` once rounded to
    quarter steps (else the decoded file would not be FINE)."""
    zero = vocab.opacity0
    if shape.linear is not None:
        fill_gone = all(_opacity(vocab, alpha) == zero for _, alpha in (shape.linear.start, shape.linear.end))
    else:
        fill_gone = shape.fill is not None and _opacity(vocab, shape.fill_opacity) == zero
    stroke_gone = shape.stroke is not None and _opacity(vocab, shape.stroke_opacity) == zero
    width = shape.stroke_width
    widest = math.ceil(fine_below * STROKE_STEPS) - 1  # quarter steps still below fine_below
    if fine and widest >= 1 and round(width * STROKE_STEPS) > widest:
        width = widest / STROKE_STEPS
    if not (fill_gone or stroke_gone or width != shape.stroke_width):
        return shape
    out = replace(shape, stroke_width=width)
    if fill_gone:
        out.fill, out.fill_opacity, out.linear = None, 0.0, None
    if stroke_gone:
        out.stroke, out.stroke_width, out.stroke_opacity, out.dash = None, 0.0, 0.0, None
    return None if out.fill is None and out.stroke is None else out


def encode_shapes(shapes: list[Shape], vocab: Vocab, palette: np.ndarray, fine_below: float = 1.0) -> Level1:
    """Level-1 units of every shape (paths that quantize to nothing but moves are dropped); stroke-only paths
    thinner than ``fine_below`` grid steps get sub-grid precision when ``vocab.fine_bits`` > 0."""
    paths, clamped = [], 0
    for shape in shapes:
        fine = is_fine(shape, vocab, fine_below)
        shape = _visible_paint(shape, vocab, fine, fine_below)
        if shape is None:
            continue
        enc = _PathEncoder(vocab, fine)
        for seg in shape.segments:
            enc.add(seg)
        clamped += enc.clamped
        body = enc.units
        while body and body[-1][0] in (vocab.cmd("m"), vocab.cmd("M")):
            body.pop()  # trailing moves draw nothing
        if len(body) > 1:
            header, c = _header(shape, vocab, palette)
            clamped += c
            if fine:
                header += (vocab.fine,)
            paths.append([header, *body, (Vocab.PATH_END,)])
    return Level1(paths, clamped)
