"""A stroke under a non-uniform (sheared or anisotropically scaled) transform, as a filled outline.

SVG strokes a path in its user space and then transforms the result, so a circle stroked under
``matrix(0.97 -0.23 -0.05 1.04 ...)`` is thick along one axis and thin along another: no single stroke width
on the grid can draw it. Such a stroke is offset here in user space (the path flattened to polylines, dashed
if it has a dash pattern, then offset by half the width with the stroke's caps, joins and miter limit, using
Clipper's polygon offsetting through ``pyclipper``, MIT/Boost; a bevel join, which Clipper lacks, as the
union of segment rectangles, joint triangles and caps), and the outline is mapped to the grid and filled. A
dash pattern finer than :data:`MAX_DASHES` dashes per path is outlined solid. The stroke becomes a fill in
HiVG-style tokens ("Hierarchical SVG Tokenization", 2026), whose attribute tokens carry one width per path. Used by :mod:`tokzoo.svg.parse` only when the width varies by more
than :data:`ANISOTROPY_TOLERANCE` grid units with the direction.
"""

from __future__ import annotations

import itertools
import math

import pyclipper
import svgelements as se

__all__ = ["ANISOTROPY_TOLERANCE", "MAX_DASHES", "anisotropy", "stroke_outline"]

#: A stroke is outlined when its width on the grid varies by more than this (grid units, a width token step).
ANISOTROPY_TOLERANCE = 0.25
#: A dashed stroke that would have more dashes than this is outlined solid (a finer pattern draws a uniform
#: tint at any practical resolution, and would take minutes and exceed the segment limit).
MAX_DASHES = 4096
_UNITS = 4096  # Clipper works on integers: half the stroke width is this many units
_JOINS = {"miter": pyclipper.JT_MITER, "round": pyclipper.JT_ROUND}  # bevel: _bevel_pieces (Clipper has none)
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
    """The dashes of ``lines`` (a closed line is dashed around its whole length, from its start); ``lines``
    unchanged (drawn solid) when that would make more than :data:`MAX_DASHES` dashes."""
    period = sum(dashes)
    total = sum(
        math.dist(p, q) for pts, closed in lines for p, q in itertools.pairwise(pts + pts[:1] * closed)
    )
    if total / period * len(dashes) / 2 > MAX_DASHES:
        return lines
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


def _bevel_pieces(pts: list[tuple[int, int]], closed: bool, cap: str) -> list[list[tuple[int, int]]]:
    """Polygons whose union is the stroke of polyline ``pts`` (half width :data:`_UNITS`) with bevel joins:
    a rectangle per segment, the outer triangle at each joint and the caps (SVG 1.1 §11.4)."""
    h = _UNITS
    ring = pts[:-1] if closed and pts[-1] == pts[0] else pts
    n = len(ring)
    edges = [(ring[i], ring[i + 1]) for i in range(n - 1)] + ([(ring[-1], ring[0])] if closed else [])
    units = []
    for p, q in edges:
        length = math.dist(p, q)
        units.append(((q[0] - p[0]) / length, (q[1] - p[1]) / length))
    out = []
    for (p, q), (dx, dy) in zip(edges, units, strict=True):
        nx, ny = -dy * h, dx * h
        out.append(
            [(p[0] + nx, p[1] + ny), (q[0] + nx, q[1] + ny), (q[0] - nx, q[1] - ny), (p[0] - nx, p[1] - ny)]
        )
    joints = range(len(edges)) if closed else range(1, len(edges))
    for j in joints:  # the joint between edge j-1 and edge j, at the start of edge j
        (ax, ay), (bx, by) = units[j - 1], units[j]
        turn = ax * by - ay * bx
        if turn == 0:
            continue
        side = -h if turn > 0 else h  # the outer side: away from the turn
        v = edges[j][0]
        out.append([v, (v[0] - ay * side, v[1] + ax * side), (v[0] - by * side, v[1] + bx * side)])
    if not closed and cap != "butt":
        for v, (dx, dy) in ((edges[-1][1], units[-1]), (edges[0][0], (-units[0][0], -units[0][1]))):
            if cap == "square":
                out.append(
                    [
                        (v[0] - dy * h, v[1] + dx * h),
                        (v[0] - dy * h + dx * h, v[1] + dx * h + dy * h),
                        (v[0] + dy * h + dx * h, v[1] - dx * h + dy * h),
                        (v[0] + dy * h, v[1] - dx * h),
                    ]
                )
            else:  # a half disc beyond the end
                steps = 24
                out.append(
                    [
                        (
                            v[0] + h * (math.cos(t) * -dy + math.sin(t) * dx),
                            v[1] + h * (math.cos(t) * dx + math.sin(t) * dy),
                        )
                        for t in (math.pi * i / steps for i in range(steps + 1))
                    ]
                )
    return [[(round(x), round(y)) for x, y in piece] for piece in out]


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
    union = pyclipper.Pyclipper()
    for pts, closed in lines:
        ints = [(round(x * k), round(y * k)) for x, y in pts]
        ints = [p for i, p in enumerate(ints) if i == 0 or p != ints[i - 1]]
        if len(ints) < 2:
            continue
        closed = closed and len(ints) > 2
        if join == "bevel":
            for piece in _bevel_pieces(ints, closed, cap):
                if abs(pyclipper.Area(piece)) > 0:
                    union.AddPath(
                        piece if pyclipper.Orientation(piece) else piece[::-1], pyclipper.PT_SUBJECT
                    )
            continue
        end = pyclipper.ET_CLOSEDLINE if closed else _CAPS.get(cap, pyclipper.ET_OPENBUTT)
        offset.AddPath(ints, _JOINS.get(join, pyclipper.JT_MITER), end)
    rings = offset.Execute(_UNITS)
    if join == "bevel":
        rings = union.Execute(pyclipper.CT_UNION, pyclipper.PFT_NONZERO, pyclipper.PFT_NONZERO)
    segments: list[tuple] = []
    for ring in rings:
        if len(ring) < 3:
            continue
        for i, (x, y) in enumerate(ring):
            p = to_grid.point_in_matrix_space(se.Point(x / k, y / k))
            segments.append(("M" if i == 0 else "L", (float(p.x), float(p.y))))
        segments.append(("Z",))
    return segments
