"""Programs executed by a real geometry kernel: manifold3d (Apache-2.0) extrudes each sketch and applies the
booleans, giving a watertight solid and its triangle mesh.

Each sketch's loops (:mod:`tokzoo.cad.sketch`) form one even-odd profile in its plane; the profile is extruded
along the plane's normal over ``[0, e1]`` (one-sided), ``[-e1, e1]`` (symmetric) or ``[-e2, e1]`` (two-sided),
extents in units of ``v / 128``; the plane is rotated by ``Rz(theta) · Rx(phi) · Rz(gamma)`` (angles ``v · 2π /
256``) and moved to the origin ``(v - 128) / 128`` per axis; the sketch scale is ``s / 128``. Then the solid so
far is joined (new, join), cut or intersected with it. Failures (a loop crossing itself or enclosing nothing,
an empty result) raise a one-line :class:`DataError` naming the operation.
"""

from __future__ import annotations

import math

import numpy as np

from tokzoo.cad.program import LEVELS, CadProgram, Extrude, Sketch
from tokzoo.cad.sketch import check_loop, loop_polygon
from tokzoo.core.errors import DataError

__all__ = ["execute", "plane_matrix", "solid_mesh", "volume_iou"]

UNIT = LEVELS / 2


def _rot(axis: str, angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    if axis == "z":
        return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def plane_matrix(e: Extrude) -> np.ndarray:
    """The (3, 4) affine map from sketch coordinates (z along the extrusion) to the model."""
    step = 2 * math.pi / LEVELS
    r = _rot("z", e.theta * step) @ _rot("x", e.phi * step) @ _rot("z", e.gamma * step)
    origin = (np.array([e.px, e.py, e.pz], dtype=np.float64) - UNIT) / UNIT
    return np.concatenate([r, origin[:, None]], axis=1)


def _body(sketch: Sketch, where: str):
    from manifold3d import CrossSection, FillRule, Manifold

    e = sketch.extrude
    scale = e.s / UNIT
    polys = []
    for k, loop in enumerate(sketch.loops):
        poly = loop_polygon(loop, scale)
        check_loop(poly, f"{where}, loop {k}")
        polys.append(poly)
    profile = CrossSection(polys, FillRule.EvenOdd)
    if profile.area() <= 0:
        raise DataError(f"{where}: the profile encloses no area")
    e1 = e.e1 / UNIT
    lo, hi = {0: (0.0, e1), 1: (-e1, e1), 2: (-e.e2 / UNIT, e1)}[int(e.u)]
    if not hi - lo > 0:
        raise DataError(f"{where}: the extrusion has no extent")
    body = Manifold.extrude(profile, hi - lo).translate((0.0, 0.0, lo))
    return body.transform(plane_matrix(e))


def execute(program: CadProgram):
    """The manifold3d solid of ``program``; DataError (one line, naming the operation) when it fails."""
    from manifold3d import Manifold

    if not program.sketches:
        raise DataError("the program has no operations")
    solid = Manifold()
    for i, sketch in enumerate(program.sketches):
        for name in ("theta", "phi", "gamma", "px", "py", "pz", "s", "e1", "e2"):
            if not math.isfinite(getattr(sketch.extrude, name)):
                raise DataError(f"operation {i}: {name} is not finite (unbounded extrusion?)")
        body = _body(sketch, f"operation {i}")
        b = int(sketch.extrude.b)
        solid = solid + body if b in (0, 1) else solid - body if b == 2 else solid ^ body
        if solid.is_empty():
            raise DataError(
                f"operation {i}: the solid is empty after this {('new', 'join', 'cut', 'intersect')[b]}"
            )
    return solid


def solid_mesh(solid) -> tuple[np.ndarray, np.ndarray]:
    """(vertices (V, 3) float64, faces (F, 3) int64) of a manifold3d solid."""
    mesh = solid.to_mesh()
    return np.asarray(mesh.vert_properties, np.float64)[:, :3], np.asarray(mesh.tri_verts, np.int64)


def volume_iou(a, b) -> float:
    """Exact volume IoU of two solids (kernel booleans): vol(a ∩ b) / vol(a ∪ b)."""
    union = (a + b).volume()
    return float((a ^ b).volume() / union) if union > 0 else 1.0
