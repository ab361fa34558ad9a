"""Random sketch-and-extrude programs in the DeepCAD format, continuous (before quantization).

DeepCAD's own data set is not available offline, so programs are drawn the way mechanical parts are built:
1-3 operations, each an axis-aligned sketch plane (angles in quarter turns) at a random origin, one outer
profile (rectangle, regular polygon, rounded rectangle, slot or circle), sometimes a circular hole, extruded
one-sided, symmetric or two-sided, then joined, cut or (rarely) intersected with what is there. Coordinates,
sizes and extents are continuous, so quantizing (:func:`tokzoo.cad.quantize.quantize_program`) loses
something measurable.
"""

from __future__ import annotations

import math

import numpy as np

from tokzoo.cad.program import Arc, CadProgram, Circle, Extrude, Line, Loop, Sketch

__all__ = ["random_program", "random_programs"]

QUARTER = 64  # a quarter turn in angle steps


def _polygon(rng: np.random.Generator, cx: float, cy: float, size: float) -> Loop:
    n = int(rng.integers(3, 9))
    start = rng.uniform(0, 2 * math.pi)
    pts = [
        (cx + size * math.cos(start + 2 * math.pi * k / n), cy + size * math.sin(start + 2 * math.pi * k / n))
        for k in range(n)
    ]
    return Loop(tuple(Line(x, y) for x, y in pts))


def _rectangle(cx: float, cy: float, w: float, h: float) -> Loop:
    return Loop(
        tuple(Line(x, y) for x, y in ((cx - w, cy - h), (cx + w, cy - h), (cx + w, cy + h), (cx - w, cy + h)))
    )


def _rounded(cx: float, cy: float, w: float, h: float, r: float) -> Loop:
    """A rectangle with quarter-circle corners of radius ``r``, counter-clockwise."""
    q = QUARTER
    return Loop(
        (
            Line(cx + w - r, cy - h), Arc(cx + w, cy - h + r, q, 1),
            Line(cx + w, cy + h - r), Arc(cx + w - r, cy + h, q, 1),
            Line(cx - w + r, cy + h), Arc(cx - w, cy + h - r, q, 1),
            Line(cx - w, cy - h + r), Arc(cx - w + r, cy - h, q, 1),
        )
    )  # fmt: skip


def _slot(cx: float, cy: float, w: float, r: float) -> Loop:
    """Two straight sides joined by half circles."""
    return Loop(
        (
            Line(cx + w, cy - r),
            Arc(cx + w, cy + r, 2 * QUARTER, 1),
            Line(cx - w, cy + r),
            Arc(cx - w, cy - r, 2 * QUARTER, 1),
        )
    )


def _profile(rng: np.random.Generator) -> tuple[Loop, ...]:
    cx, cy = rng.uniform(108, 148, size=2)
    kind = rng.choice(["rect", "polygon", "rounded", "slot", "circle"])
    w, h = rng.uniform(40, 100, size=2)
    if kind == "rect":
        outer, inner_r = _rectangle(cx, cy, w, h), min(w, h)
    elif kind == "polygon":
        outer, inner_r = _polygon(rng, cx, cy, w), w * math.cos(math.pi / 3)
    elif kind == "rounded":
        r = rng.uniform(8, 0.5 * min(w, h))
        outer, inner_r = _rounded(cx, cy, w, h, r), min(w, h)
    elif kind == "slot":
        outer, inner_r = _slot(cx, cy, w, 0.5 * h), 0.5 * h
    else:
        outer, inner_r = Loop((Circle(cx, cy, w),)), w
    if rng.random() < 0.4:
        hole = Loop((Circle(cx, cy, rng.uniform(0.25, 0.6) * inner_r),))
        return outer, hole
    return (outer,)


def _fill_grid(loops: tuple[Loop, ...], scale: float) -> tuple[tuple[Loop, ...], float]:
    """DeepCAD's normalisation: the profile centred and scaled so its longer side spans 224 of the 256 steps,
    the sketch scale shrinking to match (the same plane geometry, the least quantization error)."""
    pts = [
        (c.x - c.r, c.y - c.r, c.x + c.r, c.y + c.r) if isinstance(c, Circle) else (c.x, c.y, c.x, c.y)
        for lp in loops
        for c in lp.curves
    ]
    box = np.array(pts)
    lo, hi = box[:, :2].min(0), box[:, 2:].max(0)
    centre, k = (lo + hi) / 2, 224 / float((hi - lo).max())
    move = lambda x, y: (128 + (x - centre[0]) * k, 128 + (y - centre[1]) * k)  # noqa: E731

    def curve(c):
        if isinstance(c, Circle):
            return Circle(*move(c.x, c.y), c.r * k)
        if isinstance(c, Arc):
            return Arc(*move(c.x, c.y), c.alpha, c.f)
        return Line(*move(c.x, c.y))

    return tuple(Loop(tuple(curve(c) for c in lp.curves)) for lp in loops), scale / k


def random_program(rng: np.random.Generator) -> CadProgram:
    """One continuous program (1-3 operations)."""
    sketches = []
    for i in range(int(rng.integers(1, 4))):
        theta, phi, gamma = (QUARTER * int(rng.integers(0, 4)) for _ in range(3))
        px, py, pz = rng.uniform(88, 168, size=3)
        u = int(rng.integers(0, 3))
        b = 0 if i == 0 else int(rng.choice([1, 2, 3], p=[0.55, 0.35, 0.10]))
        e1, e2 = rng.uniform(30, 120, size=2)
        loops, scale = _fill_grid(_profile(rng), rng.uniform(50, 110))
        extrude = Extrude(theta, phi, gamma, px, py, pz, scale, e1, e2 if u == 2 else 0.0, b, u)
        sketches.append(Sketch(loops, extrude))
    return CadProgram(tuple(sketches))


def random_programs(n: int, seed: int = 0) -> list[CadProgram]:
    """``n`` programs, a pure function of ``seed``."""
    rng = np.random.default_rng(seed)
    return [random_program(rng) for _ in range(n)]
