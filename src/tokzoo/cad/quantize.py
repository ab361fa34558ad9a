"""Quantizing a continuous program to the 8-bit grid, with the error of each operation's frame fed forward.

The extrusion's frame (angles, origin, scale) is rounded first; then every sketch point is placed where it
lands in the *rounded* frame (its model-space position mapped back through the rounded plane) before it is
rounded, and circle radii are rescaled to the rounded scale, so a sketch scale or in-plane origin that rounds
by half a step moves no geometry; a two-sided extrusion also absorbs the origin's shift along the normal.
What is left is at most half a step per value (DeepCAD, 2021, rounds each value on its own).
"""

from __future__ import annotations

import numpy as np

from tokzoo.cad.grammar import clip_value
from tokzoo.cad.program import Arc, CadProgram, Circle, Extrude, Line, Loop, Sketch
from tokzoo.core.errors import DataError

__all__ = ["quantize_program"]

HALF = 128.0


def _q(name: str, v: float) -> int:
    if not np.isfinite(v):
        raise DataError(f"CAD program: {name} is {v} (not a finite number)")
    return clip_value(name, int(np.rint(v)))


def _frame(e: Extrude) -> tuple[np.ndarray, np.ndarray, float]:
    from tokzoo.cad.kernel import plane_matrix

    m = plane_matrix(e)
    return m[:, :3], m[:, 3], e.s / HALF


def _sketch(sk: Sketch) -> Sketch:
    e = sk.extrude
    if e.u not in (0, 1, 2) or e.b not in (0, 1, 2, 3):
        raise DataError(f"CAD program: extent type {e.u!r} / boolean {e.b!r} out of range")
    for name in ("theta", "phi", "gamma", "px", "py", "pz", "s", "e1", "e2"):
        _q(name, getattr(e, name))  # finiteness, with the value's name
    frame = {k: _q(k, getattr(e, k)) for k in ("theta", "phi", "gamma", "px", "py", "pz", "s")}
    r0, p0, s0 = _frame(e)
    r1, p1, s1 = _frame(Extrude(**frame, e1=1, e2=0, b=0, u=0))

    def local(x: float, y: float) -> np.ndarray:
        """(x, y, normal offset) of a sketch point in the rounded frame, in grid units."""
        world = r0 @ np.array([(x - HALF) / HALF * s0, (y - HALF) / HALF * s0, 0.0]) + p0
        u = r1.T @ (world - p1)
        return np.array([HALF + u[0] / s1 * HALF, HALF + u[1] / s1 * HALF, u[2] * HALF])

    def curve(c):
        if not all(np.isfinite(getattr(c, k)) for k in ("x", "y")):
            raise DataError("CAD program: a sketch coordinate is not a finite number")
        x, y, _ = local(c.x, c.y)
        if isinstance(c, Line):
            return Line(_q("x", x), _q("y", y))
        if isinstance(c, Arc):
            return Arc(_q("x", x), _q("y", y), _q("alpha", c.alpha), int(c.f))
        return Circle(_q("x", x), _q("y", y), _q("r", c.r * s0 / s1))

    shift = local(HALF, HALF)[2]  # the old plane's offset along the new normal
    if e.u == 2:
        e1, e2 = _q("e1", e.e1 + shift), _q("e2", e.e2 - shift)
    else:
        e1, e2 = _q("e1", e.e1), 0
    loops = tuple(Loop(tuple(curve(c) for c in lp.curves)) for lp in sk.loops)
    return Sketch(loops, Extrude(**frame, e1=e1, e2=e2, b=int(e.b), u=int(e.u)))


def quantize_program(program: CadProgram) -> CadProgram:
    """``program`` on the 8-bit grid (values clipped to their ranges); DataError for non-finite values."""
    return CadProgram(tuple(_sketch(sk) for sk in program.sketches))
