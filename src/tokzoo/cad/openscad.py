"""OpenSCAD CSG programs that are sketch-and-extrude, converted to DeepCAD-format :class:`CadProgram`\\ s.

A ``cube(size, center)`` is an extruded rectangle, a ``cylinder(h, r, center)`` (``r1 == r2``) an extruded
circle, and ``linear_extrude(height, center)`` of ``square``/``circle``/``polygon`` (holes via ``paths``, even-odd
as the kernel fills them) an extruded profile; ``translate``, ``rotate`` (Euler vector, angle, or angle about an
axis), ``mirror`` and ``scale`` are pushed down to the primitives, where each body's map must be a rotation
(mirrors flip the extrusion) times a per-axis scale (a circle's scale equal in its plane); ``color``/``render``
change nothing and ``echo`` makes nothing. 2-D booleans inside ``linear_extrude`` become 3-D booleans of the
extruded pieces (extrusion commutes with union, difference and intersection).

The CSG tree is then linearised into DeepCAD's left-to-right boolean sequence ``((B1 op B2) op B3) ...``
(nested unions and intersections flattened, ``difference(difference(A, B), C)`` read as ``A - B - C``):

- ``union(T, P1, ..., Pn)``         = T + P1 + ... + Pn          (at most one operand T that is not a primitive)
- ``difference(T, U1, ..., Un)``    = T - (primitives of U1) - ... (each Ui a primitive or a union of primitives:
  A - (B ∪ C) = A - B - C)
- ``intersection(T, P1, ..., Pn)``  = T ∩ P1 ∩ ... ∩ Pn          (at most one operand T that is not a primitive)

Any other tree (two compound operands of a union, ``A ∩ (B ∪ C)``, ``A - (B - C)`` ...) is refused. So is everything
outside the subset (``sphere``, ``hull``, ``minkowski``, ``rotate_extrude``, ``import``, ``multmatrix``, ``text``,
``offset``, cones, twisted or scaled extrusions, ...; modules and loops are refused by the parser), each a one-line
:class:`~tokzoo.cad.scad_parse.ScadError` ``<file>:<line>: <construct> ...`` with a ``reason`` key.

The model is centred and scaled into ``[-0.875, 0.875]^3`` (the bounding box of every body, cut ones included, its
longest side spanning 224 of the 256 origin steps, so its faces on that axis lie on the grid), each
sketch normalised as DeepCAD's are (its longer side spanning 224 of 256 steps), each extrusion one-sided from the
profile's plane (symmetric about it when the body is taller than the grid's reach). References: DeepCAD
("DeepCAD: A Deep Generative Network for Computer-Aided Design Models", Wu, Xiao, Zheng, 2021) for the format.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tokzoo.cad.program import LEVELS, MAX_COMMANDS, CadProgram, Circle, Extrude, Line, Loop, Sketch
from tokzoo.cad.scad_args import (
    circle_args,
    cube_args,
    cylinder_args,
    extrude_args,
    polygon_args,
    square_args,
    transform_args,
)
from tokzoo.cad.scad_eval import Node, ScadError, ScadFile, parse_scad
from tokzoo.cad.sketch import check_loop
from tokzoo.core.errors import DataError

__all__ = ["Conversion", "convert_scad", "scad_to_program", "transform_matrix"]

HALF = LEVELS / 2
REACH = 112 / 128  # the model is scaled into [-REACH, REACH]^3: its longest side spans 224 grid steps
SPAN = 224  # grid steps of a sketch's longer side (DeepCAD)
BOOLEANS = {"union": 1, "difference": 2, "intersection": 3}
TRANSFORMS = ("translate", "rotate", "mirror", "scale")
PASS = ("color", "render", "union", "group")


@dataclass(frozen=True)
class Prim:
    """One extruded body: profile loops in its local plane, z range, and the 4x4 map to the model."""

    loops: tuple  # ("poly", (N, 2) array) or ("circle", cx, cy, r)
    lo: float
    hi: float
    matrix: np.ndarray
    line: int


@dataclass(frozen=True)
class Conversion:
    """A converted program and the map from the original model: ``normalised = scale * (x - centre)``."""

    program: CadProgram
    centre: np.ndarray
    scale: float


def transform_matrix(kind: str, v) -> np.ndarray:
    """The 4x4 matrix of a transform as :func:`tokzoo.cad.scad_args.transform_args` describes it."""
    m = np.eye(4)
    if kind == "translate":
        m[:3, 3] = v
    elif kind == "scale":
        m[:3, :3] = np.diag(v)
    elif kind == "mirror":
        n = np.asarray(v, np.float64)
        if n @ n > 0:
            m[:3, :3] -= 2 * np.outer(n, n) / (n @ n)
    elif kind == "rotate":
        x, y, z = np.radians(v)
        rx = np.array([[1, 0, 0], [0, math.cos(x), -math.sin(x)], [0, math.sin(x), math.cos(x)]])
        ry = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
        rz = np.array([[math.cos(z), -math.sin(z), 0], [math.sin(z), math.cos(z), 0], [0, 0, 1]])
        m[:3, :3] = rz @ ry @ rx
    else:  # axis: Rodrigues' rotation by angle (degrees) about the unit axis
        angle, axis = v
        k = np.asarray(axis, np.float64) / np.linalg.norm(axis)
        kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
        a = math.radians(angle)
        m[:3, :3] = np.eye(3) + math.sin(a) * kx + (1 - math.cos(a)) * kx @ kx
    return m


class _Builder:
    """The CSG tree of a parsed file as bodies (:class:`Prim`) under boolean nodes ``(op, children)``."""

    def __init__(self, name: str) -> None:
        self.name = name

    def refuse(self, node: Node, message: str, reason: str) -> ScadError:
        return ScadError(self.name, node.line, message, reason)

    def group(self, nodes, m: np.ndarray, z: tuple[float, float] | None):
        return _union([self.build(c, m, z) for c in nodes])

    def build(self, node: Node, m: np.ndarray, z: tuple[float, float] | None):
        """The body of ``node`` under the map ``m``; ``z`` is the extrusion range inside linear_extrude."""
        if "!" in node.modifier:
            raise self.refuse(node, "the root modifier ! is not supported", "root modifier")
        if "*" in node.modifier or "%" in node.modifier or node.name == "echo":
            return None
        name = node.name
        if name in PASS:
            return self.group(node.children, m, z)
        if name in ("difference", "intersection"):
            parts = [self.build(c, m, z) for c in node.children]
            return _difference(parts) if name == "difference" else _intersection(parts)
        if name in TRANSFORMS:
            t = transform_matrix(*transform_args(node, self.name))
            if z is not None and not _in_plane(t):
                raise self.refuse(
                    node, f"{name} out of the sketch plane inside linear_extrude", "3-D transform of 2-D"
                )
            return self.group(node.children, m @ t, z)
        if name == "linear_extrude":
            if z is not None:
                raise self.refuse(node, "linear_extrude inside linear_extrude", "nested linear_extrude")
            h, center = extrude_args(node, self.name)
            return self.group(node.children, m, (-h / 2, h / 2) if center else (0.0, h))
        if name in ("cube", "cylinder"):
            if z is not None:
                raise self.refuse(node, f"{name} (3-D) inside linear_extrude", "3-D object in 2-D context")
            return self.solid(node, m)
        if name in ("square", "circle", "polygon"):
            if z is None:
                raise self.refuse(
                    node, f"{name} (2-D) outside linear_extrude", "2-D object without extrusion"
                )
            loops = self.profile(node)
            return None if loops is None else Prim(loops, z[0], z[1], m, node.line)
        raise self.refuse(node, f"{name} is not supported", name)

    def solid(self, node: Node, m: np.ndarray) -> Prim | None:
        if node.name == "cube":
            (x, y, h), center = cube_args(node, self.name)
            if min(x, y, h) <= 0:
                return None  # OpenSCAD makes nothing of a cube with a side <= 0
            x0, y0 = (-x / 2, -y / 2) if center else (0.0, 0.0)
            loops = (("poly", np.array([[x0, y0], [x0 + x, y0], [x0 + x, y0 + y], [x0, y0 + y]])),)
        else:
            h, r1, r2, center = cylinder_args(node, self.name)
            if r1 != r2:
                raise self.refuse(
                    node, f"cylinder with r1 {r1:g} != r2 {r2:g} (a cone) is not supported", "cone"
                )
            if h <= 0 or r1 <= 0:
                return None
            loops = (("circle", 0.0, 0.0, r1),)
        lo, hi = (-h / 2, h / 2) if center else (0.0, h)
        return Prim(loops, lo, hi, m, node.line)

    def profile(self, node: Node) -> tuple | None:
        if node.name == "circle":
            r = circle_args(node, self.name)
            return (("circle", 0.0, 0.0, r),) if r > 0 else None
        if node.name == "square":
            (x, y), center = square_args(node, self.name)
            if min(x, y) <= 0:
                return None
            x0, y0 = (-x / 2, -y / 2) if center else (0.0, 0.0)
            return (("poly", np.array([[x0, y0], [x0 + x, y0], [x0 + x, y0 + y], [x0, y0 + y]])),)
        loops = []
        for k, pts in enumerate(polygon_args(node, self.name)):
            poly = _dedupe(np.asarray(pts, np.float64).reshape(-1, 2))
            if len(poly) < 3:
                raise self.refuse(
                    node, f"polygon: loop {k} has fewer than 3 distinct points", "degenerate polygon"
                )
            try:
                check_loop(poly, f"polygon loop {k}")
            except DataError as e:
                raise self.refuse(node, str(e), "self-intersecting polygon") from None
            loops.append(("poly", poly))
        return tuple(loops) or None


def _dedupe(poly: np.ndarray) -> np.ndarray:
    """``poly`` without points equal to the previous one (the closing repeat of the first included)."""
    keep = np.any(poly != np.roll(poly, 1, axis=0), axis=1)
    return poly[keep] if keep.any() else poly[:1]


def _in_plane(t: np.ndarray) -> bool:
    return bool(np.allclose(t[2], [0, 0, 1, 0]) and np.allclose(t[:2, 2], 0))


def _union(parts: list):
    kept = []
    for p in parts:
        if p is not None:
            kept.extend(p[1] if isinstance(p, tuple) and p[0] == "union" else [p])
    return None if not kept else kept[0] if len(kept) == 1 else ("union", kept)


def _difference(parts: list):
    if not parts or parts[0] is None:
        return None
    first, rest = parts[0], [p for p in parts[1:] if p is not None]
    if not rest:
        return first
    if isinstance(first, tuple) and first[0] == "difference":
        return ("difference", first[1] + rest)
    return ("difference", [first, *rest])


def _intersection(parts: list):
    if not parts or any(p is None for p in parts):
        return None
    kept = []
    for p in parts:
        kept.extend(p[1] if isinstance(p, tuple) and p[0] == "intersection" else [p])
    return kept[0] if len(kept) == 1 else ("intersection", kept)


def _linearise(body, name: str, line: int) -> list[tuple[int, Prim]]:
    """``[(boolean, body), ...]`` with DeepCAD's booleans (0 new, 1 join, 2 cut, 3 intersect)."""
    if isinstance(body, Prim):
        return [(0, body)]
    op, parts = body
    if op == "difference":
        seq = _linearise(parts[0], name, line)
        for p in parts[1:]:
            prims = [p] if isinstance(p, Prim) else p[1] if p[0] == "union" else []
            if not prims or not all(isinstance(q, Prim) for q in prims):
                raise ScadError(
                    name, _line(p, line), "difference: a subtracted operand must be a primitive or a union of "
                    "primitives to linearise", "non-linearisable CSG",
                )  # fmt: skip
            seq += [(2, q) for q in prims]
        return seq
    compound = [p for p in parts if not isinstance(p, Prim)]
    if len(compound) > 1:
        raise ScadError(
            name, _line(compound[1], line), f"{op}: more than one operand is a boolean of several bodies, which "
            "does not linearise", "non-linearisable CSG",
        )  # fmt: skip
    lead = compound[0] if compound else parts[0]
    return _linearise(lead, name, line) + [(BOOLEANS[op], p) for p in parts if p is not lead]


def _line(body, default: int) -> int:
    while not isinstance(body, Prim):
        if not body[1]:
            return default
        body = body[1][0]
    return body.line


def _frame(p: Prim, name: str):
    """(rotation Q with det +1, per-axis scale D, z flipped?) with ``p.matrix[:3, :3] = Q' D``."""
    lin = p.matrix[:3, :3]
    d = np.linalg.norm(lin, axis=0)
    gram = lin.T @ lin
    if d.min() <= 1e-12 * max(1.0, d.max()):
        raise ScadError(name, p.line, "a scale of 0 flattens this body", "zero scale")
    if np.abs(gram - np.diag(np.diag(gram))).max() > 1e-9 * d.max() ** 2:
        raise ScadError(name, p.line, "the transforms shear this body (a scale after a rotation)", "shear")
    q = lin / d
    flip = np.linalg.det(q) < 0
    if flip:
        q = q @ np.diag([1.0, 1.0, -1.0])
    return q, d, flip


def _euler(q: np.ndarray) -> tuple[float, float, float]:
    """(theta, phi, gamma) in radians with q = Rz(theta) Rx(phi) Rz(gamma)."""
    phi = math.acos(min(1.0, max(-1.0, q[2, 2])))
    if math.sin(phi) > 1e-9:
        return math.atan2(q[0, 2], -q[1, 2]), phi, math.atan2(q[2, 0], q[2, 1])
    return math.atan2(q[1, 0], q[0, 0]), phi, 0.0


def _steps(angle: float) -> float:
    s = (angle / (2 * math.pi) * LEVELS) % LEVELS
    return s - LEVELS if s > LEVELS - 0.5 else s


def _local(p: Prim, name: str):
    """The body in its scaled local frame: loops, z range, rotation, and the model offset."""
    q, d, flip = _frame(p, name)
    loops = []
    for loop in p.loops:
        if loop[0] == "poly":
            loops.append(("poly", loop[1] * d[:2]))
        else:
            if abs(d[0] - d[1]) > 1e-9 * d.max():
                raise ScadError(
                    name, p.line, "a scale different in x and y makes this circle an ellipse", "ellipse"
                )
            loops.append(("circle", loop[1] * d[0], loop[2] * d[1], loop[3] * d[0]))
    lo, hi = p.lo * d[2], p.hi * d[2]
    if flip:
        lo, hi = -hi, -lo
    return loops, lo, hi, q, p.matrix[:3, 3]


def _box(loops) -> tuple[np.ndarray, np.ndarray]:
    pts = []
    for lp in loops:
        if lp[0] == "poly":
            pts.append(lp[1])
        else:
            pts.append(np.array([[lp[1] - lp[3], lp[2] - lp[3]], [lp[1] + lp[3], lp[2] + lp[3]]]))
    allp = np.concatenate(pts)
    return allp.min(0), allp.max(0)


def _sketch(local, b: int, centre: np.ndarray, k: float) -> Sketch:
    loops, lo, hi, q, t = local
    pmin, pmax = _box(loops)
    mid = (pmin + pmax) / 2
    s_model = float((pmax - pmin).max()) * k * HALF / SPAN
    height = (hi - lo) * k
    one_sided = height * HALF <= LEVELS - 1.5
    z0 = lo if one_sided else (lo + hi) / 2
    origin = k * (t + q @ np.array([mid[0], mid[1], z0]) - centre)

    def grid(x: float, y: float) -> tuple[float, float]:
        return HALF + (x - mid[0]) * k / s_model * HALF, HALF + (y - mid[1]) * k / s_model * HALF

    out = []
    for lp in loops:
        if lp[0] == "poly":
            out.append(Loop(tuple(Line(*grid(x, y)) for x, y in lp[1])))
        else:
            out.append(Loop((Circle(*grid(lp[1], lp[2]), lp[3] * k / s_model * HALF),)))
    theta, phi, gamma = (_steps(a) for a in _euler(q))
    px, py, pz = (HALF + HALF * o for o in origin)
    e1 = height * HALF if one_sided else height / 2 * HALF
    extrude = Extrude(theta, phi, gamma, px, py, pz, s_model * HALF, e1, 0.0, b, 0 if one_sided else 1)
    return Sketch(tuple(out), extrude)


def convert_scad(scad: ScadFile, max_commands: int = MAX_COMMANDS) -> Conversion:
    """The DeepCAD program of a parsed OpenSCAD file (continuous values, in grid units); ScadError if it is
    outside the subset, does not linearise or needs more than ``max_commands`` commands."""
    name = scad.name
    body = _Builder(name).group(scad.nodes, np.eye(4), None)
    if body is None:
        raise ScadError(name, 1, "the program makes no solid", "no solid")
    seq = _linearise(body, name, 1)
    commands = sum(sum(3 if lp[0] == "circle" else len(lp[1]) + 1 for lp in p.loops) + 1 for _, p in seq) + 1
    if commands > max_commands:
        raise ScadError(
            name,
            seq[0][1].line,
            f"the program needs {commands} commands, more than {max_commands}",
            "too long",
        )
    locals_ = [_local(p, name) for _, p in seq]
    corners = []
    for loops, lo, hi, q, t in locals_:
        pmin, pmax = _box(loops)
        box = np.array([[x, y, z] for x in (pmin[0], pmax[0]) for y in (pmin[1], pmax[1]) for z in (lo, hi)])
        corners.append(box @ q.T + t)
    allc = np.concatenate(corners)
    cmin, cmax = allc.min(0), allc.max(0)
    centre = (cmin + cmax) / 2
    half = float((cmax - cmin).max()) / 2
    k = REACH / half if half > 0 else math.inf
    if not np.isfinite(allc).all() or not math.isfinite(k):  # e.g. cube(1e-320): a size that does not scale
        raise ScadError(name, 1, "the model's size is zero or not finite", "no solid")
    sketches = tuple(
        _sketch(loc, b if i else 0, centre, k)
        for i, ((b, _), loc) in enumerate(zip(seq, locals_, strict=True))
    )
    return Conversion(CadProgram(sketches), centre, k)


def scad_to_program(text: str, name: str = "<scad>", max_commands: int = MAX_COMMANDS) -> Conversion:
    """Parse and convert OpenSCAD ``text`` (:func:`convert_scad` of :func:`parse_scad`)."""
    return convert_scad(parse_scad(text, name), max_commands)
