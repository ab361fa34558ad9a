"""Sketch geometry: a loop of lines, arcs and circles as a polygon in the sketch plane, and its checks.

Grid units become plane units as ``(v - 128) / 128 * scale`` (the sketch spans [-scale, scale) on each axis);
an arc sweeps ``alpha * 2π / 256`` from the previous end to its own, counter-clockwise when ``f`` is 1, and is
drawn with one segment per 2π/64 of sweep (at least 2), a circle with 64.
"""

from __future__ import annotations

import math

import numpy as np

from tokzoo.cad.program import LEVELS, Arc, Circle, Loop
from tokzoo.core.errors import DataError

__all__ = ["SEGMENTS_PER_TURN", "check_loop", "loop_polygon", "self_intersects"]

SEGMENTS_PER_TURN = 64
CENTRE = LEVELS / 2


def _plane(v: float, scale: float) -> float:
    return (v - CENTRE) / CENTRE * scale


def _arc_points(start: np.ndarray, end: np.ndarray, sweep: float, ccw: bool) -> np.ndarray:
    """Points after ``start`` up to ``end`` on the circular arc of angle ``sweep`` (radians)."""
    chord = end - start
    half = np.linalg.norm(chord) / 2
    left = np.array([-chord[1], chord[0]]) / (2 * half)
    centre = (start + end) / 2 + (left if ccw else -left) * half / math.tan(sweep / 2)
    radius = np.linalg.norm(start - centre)
    a0 = math.atan2(start[1] - centre[1], start[0] - centre[0])
    n = max(2, math.ceil(sweep / (2 * math.pi) * SEGMENTS_PER_TURN))
    angles = a0 + (1 if ccw else -1) * sweep * np.arange(1, n + 1) / n
    pts = centre + radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    pts[-1] = end
    return pts


def loop_polygon(loop: Loop, scale: float) -> np.ndarray:
    """(N, 2) polygon of ``loop`` in plane units (closed implicitly)."""
    curves = loop.curves
    if len(curves) == 1 and isinstance(curves[0], Circle):
        c = curves[0]
        t = 2 * math.pi * np.arange(SEGMENTS_PER_TURN) / SEGMENTS_PER_TURN
        r = c.r / CENTRE * scale
        return np.stack([_plane(c.x, scale) + r * np.cos(t), _plane(c.y, scale) + r * np.sin(t)], axis=1)
    ends = np.array([[_plane(c.x, scale), _plane(c.y, scale)] for c in curves], dtype=np.float64)
    out = []
    for i, c in enumerate(curves):
        start, end = ends[i - 1], ends[i]
        if isinstance(c, Arc):
            out.append(_arc_points(start, end, c.alpha * 2 * math.pi / LEVELS, bool(c.f)))
        else:
            out.append(end[None])
    return np.concatenate(out)


def self_intersects(poly: np.ndarray) -> bool:
    """Whether two non-adjacent edges of the closed polygon ``poly`` touch or cross."""
    a, b = poly, np.roll(poly, -1, axis=0)
    n = len(poly)
    i, j = np.triu_indices(n, k=2)
    keep = ~((i == 0) & (j == n - 1))  # the first and last edges share a vertex
    i, j = i[keep], j[keep]
    p, r = a[i], b[i] - a[i]
    q, s = a[j], b[j] - a[j]
    cross = lambda u, v: u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0]  # noqa: E731
    denom, qp = cross(r, s), q - p
    eps = 1e-12 * max(1.0, float(np.abs(poly).max()))
    parallel = np.abs(denom) <= eps
    with np.errstate(divide="ignore", invalid="ignore"):
        t, u = cross(qp, s) / denom, cross(qp, r) / denom
    crossing = ~parallel & (t >= -1e-9) & (t <= 1 + 1e-9) & (u >= -1e-9) & (u <= 1 + 1e-9)
    # collinear overlapping edges
    collinear = parallel & (np.abs(cross(qp, r)) <= eps)
    rr = np.maximum((r * r).sum(1), eps)
    t0, t1 = (qp * r).sum(1) / rr, ((qp + s) * r).sum(1) / rr
    overlap = collinear & (np.maximum(t0, t1) >= 0) & (np.minimum(t0, t1) <= 1)
    return bool((crossing | overlap).any())


def check_loop(poly: np.ndarray, where: str) -> None:
    """DataError naming ``where`` if the loop crosses itself or encloses no area."""
    x, y = poly[:, 0], poly[:, 1]
    area = 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))
    if self_intersects(poly):
        raise DataError(f"{where}: the loop intersects itself")
    if area <= 1e-12:
        raise DataError(f"{where}: the loop encloses no area")
