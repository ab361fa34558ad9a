"""A stroke under a non-uniform (sheared or anisotropically scaled) transform, as a filled outline.

SVG strokes a path in its user space and then transforms the result, so a circle stroked under
``matrix(0.97 -0.23 -0.05 1.04 ...)`` is thick along one axis and thin along another: no single stroke width
on the grid can draw it. Such a stroke is offset here in user space (the path flattened to polylines, dashed
if it has a dash pattern, then offset by half the width with the stroke's caps, joins and miter limit, using
Clipper's polygon offsetting through ``pyclipper``, MIT/Boost), and the outline is mapped to the grid and
filled. The stroke becomes a fill in HiVG-style tokens ("Hierarchical SVG Tokenization", 2026), whose
attribute tokens carry one width per path. Used by :mod:`tokzoo.svg.parse` only when the width varies by more
than :data:`ANISOTROPY_TOLERANCE` grid units with the direction.
"""

from __future__ import annotations

import itertools
import math

import pyclipper
import svgelements as se

__all__ = ["ANISOTROPY_TOLERANCE", "anisotropy", "stroke_outline"]

#: A stroke is outlined when its width on the grid varies by more than this (grid units, a width token step).
ANISOTROPY_TOLERANCE = 0.25
_UNITS = 4096  # Clipper works on integers: half the stroke width is this many units
_JOINS = {"miter": pyclipper.JT_MITER, "round": pyclipper.JT_ROUND, "bevel": pyclipper.JT_SQUARE}
_CAPS = {"butt": pyclipper.ET_OPENBUTT, "round": pyclipper.ET_OPENROUND, "square": pyclipper.ET_OPENSQUARE}


def anisotropy(m: se.Matrix) -> tuple[float, float]:
    """The largest and smallest factor by which ``m`` scales lengths (the singular values of its 2x2 part)."""
    a, b, c, d = float(m.a), float(m.b), float(m.c), float(m.d)
    mean = (a * a + b * b + c * c + d * d) / 2
    det = a * d - b * c
    root = math.sqrt(max(mean * mean - det * det, 0.0))
    return math.sqrt(mean + root), math.sqrt(max(mean - root, 0.0))


def _polylines(path: se.Path, step: float) -> list[tuple[list[tuple[float, float]], bool]]:
    """``(points, closed)`` per subpath of ``path`` in its own coordinates; curves are sampled every
    ``step`` units of length or finer."""
    out = []
    for sub in path.as_subpaths():
        pts: list[tuple[float, float]] = []
        closed = False
        for seg in sub:
            if isinstance(seg, se.Move):
                pts = [(float(seg.end.x), float(seg.end.y))]
            elif isinstance(seg, se.Close):
                closed = True
            elif isinstance(seg, se.Line):
                pts.append((float(seg.end.x), float(seg.end.y)))
            elif isinstance(seg, (se.QuadraticBezier, se.CubicBezier, se.Arc)):
                n = min(max(2, math.ceil(seg.length(error=1e-3) / step)), 256)
                for i in range(1, n + 1):
                    p = seg.point(i / n)
                    pts.append((float(p.x), float(p.y)))
        if len(pts) > 1:
            out.append((pts, closed))
    return out


def _dashed(
    lines: list[tuple[list[tuple[float, float]], bool]], dashes: list[float], offset: float
) -> list[tuple[list[tuple[float, float]], bool]]:
    """The dashes of ``lines`` (a closed line is dashed around its whole length, from its start)."""
    period = sum(dashes)
    out = []
    for pts, closed in lines:
        if closed:
            pts = [*pts, pts[0]]
        phase = offset % period
        k = 0
        while phase >= dashes[k]:  # where in the pattern the line starts
            phase -= dashes[k]
            k = (k + 1) % len(dashes)
        left = dashes[k] - phase  # length left in the current dash or gap
        current: list[tuple[float, float]] = [pts[0]] if k % 2 == 0 else []
        for p, q in itertools.pairwise(pts):
            seg = math.dist(p, q)
            pos = 0.0
            while seg - pos > left:
                pos += left
                t = pos / seg
                cut = (p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1]))
                if k % 2 == 0:
                    current.append(cut)
                    out.append((current, False))
                    current = []
                else:
                    current = [cut]
                k = (k + 1) % len(dashes)
                left = dashes[k]
            left -= seg - pos
            if k % 2 == 0:
                current.append(q)
        if k % 2 == 0 and len(current) > 1:
            out.append((current, False))
    return out


def stroke_outline(
    path: se.Path,
    to_grid: se.Matrix,
    width: float,
    cap: str = "butt",
    join: str = "miter",
    miter_limit: float = 4.0,
    dashes: list[float] | None = None,
    dash_offset: float = 0.0,
) -> list[tuple]:
    """The outline of ``path`` (user space) stroked with ``width`` (user units), mapped by ``to_grid``, as
    ``("M", p) ("L", p) ... ("Z",)`` segments to fill with the nonzero rule; empty when nothing is drawn."""
    big, _small = anisotropy(to_grid)
    if width <= 0 or big <= 0:
        return []
    lines = _polylines(path, step=0.5 / big)  # about half a grid unit between samples
    if dashes:
        lines = _dashed(lines, dashes, dash_offset)
    k = _UNITS / (width / 2)
    offset = pyclipper.PyclipperOffset(miter_limit=max(miter_limit, 1.0), arc_tolerance=_UNITS * 0.005)
    for pts, closed in lines:
        ints = [(round(x * k), round(y * k)) for x, y in pts]
        ints = [p for i, p in enumerate(ints) if i == 0 or p != ints[i - 1]]
        if len(ints) < 2:
            continue
        end = pyclipper.ET_CLOSEDLINE if closed and len(ints) > 2 else _CAPS.get(cap, pyclipper.ET_OPENBUTT)
        offset.AddPath(ints, _JOINS.get(join, pyclipper.JT_MITER), end)
    segments: list[tuple] = []
    for ring in offset.Execute(_UNITS):
        if len(ring) < 3:
            continue
        for i, (x, y) in enumerate(ring):
            p = to_grid.point_in_matrix_space(se.Point(x / k, y / k))
            segments.append(("M" if i == 0 else "L", (float(p.x), float(p.y))))
        segments.append(("Z",))
    return segments
