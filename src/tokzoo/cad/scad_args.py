"""What the arguments of OpenSCAD's built-in modules mean: each supported builtin's parameters, read from a
parsed :class:`~tokzoo.cad.scad_parse.Node` into plain floats with OpenSCAD's defaults and precedences (``d``
over ``r``, ``r1``/``r2`` defaulting to ``r``, a positional ``height`` for ``linear_extrude`` ...).

Shared by the converter (:mod:`tokzoo.cad.openscad`) and the direct CSG evaluation that checks it
(:mod:`tokzoo.cad.scad_csg`), so both read a program the same way; the geometry each builds is its own.
Wrong arguments (a 2-vector for ``cube``, an unknown name, a non-finite number) are a :class:`ScadError`.
"""

from __future__ import annotations

import math
from typing import Any

from tokzoo.cad.scad_eval import Node, ScadError

__all__ = [
    "circle_args",
    "cube_args",
    "cylinder_args",
    "extrude_args",
    "polygon_args",
    "read_args",
    "square_args",
    "transform_args",
]

#: Arguments OpenSCAD accepts that change nothing here (rendering hints).
IGNORED = {"convexity", "slices", "segments"}


def read_args(node: Node, name: str, positional: tuple[str, ...], named: tuple[str, ...]) -> dict[str, Any]:
    """Arguments of ``node`` by name: positional ones in ``positional`` order, then named ones."""
    out: dict[str, Any] = {}
    plain = [v for k, v in node.args if k is None]
    if len(plain) > len(positional):
        raise ScadError(name, node.line, f"{node.name}: too many positional arguments", "arguments")
    out.update(zip(positional, plain, strict=False))
    for k, v in node.args:
        if k is None or k in IGNORED:
            continue
        if k not in positional and k not in named:
            raise ScadError(name, node.line, f"{node.name}: unknown argument {k}", "arguments")
        out[k] = v
    return out


def _num(name: str, node: Node, what: str, v: Any) -> float:
    if not isinstance(v, float) or not math.isfinite(v):
        raise ScadError(
            name, node.line, f"{node.name}: {what} must be a finite number, got {v!r}", "arguments"
        )
    return v


def _vec(name: str, node: Node, what: str, v: Any, sizes: tuple[int, ...], fill: float = 0.0) -> list[float]:
    if not isinstance(v, list) or len(v) not in sizes:
        raise ScadError(
            name,
            node.line,
            f"{node.name}: {what} must be a vector of {' or '.join(map(str, sizes))}",
            "arguments",
        )
    out = [_num(name, node, what, x) for x in v]
    return out + [fill] * (3 - len(out))


def _flag(v: Any) -> bool:
    return bool(v) and v != 0.0


def cube_args(node: Node, name: str) -> tuple[list[float], bool]:
    """``cube(size=1, center=false)``: the three side lengths and ``center``."""
    a = read_args(node, name, ("size", "center"), ())
    size = a.get("size", 1.0)
    sides = (
        [_num(name, node, "size", size)] * 3
        if not isinstance(size, list)
        else _vec(name, node, "size", size, (3,))
    )
    return sides, _flag(a.get("center", False))


def cylinder_args(node: Node, name: str) -> tuple[float, float, float, bool]:
    """``cylinder(h=1, r1, r2, center=false)`` with ``r``, ``d``, ``d1``, ``d2``: ``(h, r1, r2, center)``."""
    a = read_args(node, name, ("h", "r1", "r2", "center"), ("r", "d", "d1", "d2"))

    def radius(r_key: str, d_key: str, default: float) -> float:
        if d_key in a:
            return _num(name, node, d_key, a[d_key]) / 2
        return _num(name, node, r_key, a[r_key]) if r_key in a else default

    r = radius("r", "d", 1.0)
    h = _num(name, node, "h", a.get("h", 1.0))
    return h, radius("r1", "d1", r), radius("r2", "d2", r), _flag(a.get("center", False))


def square_args(node: Node, name: str) -> tuple[list[float], bool]:
    """``square(size=1, center=false)``: the two side lengths and ``center``."""
    a = read_args(node, name, ("size", "center"), ())
    size = a.get("size", 1.0)
    sides = (
        [_num(name, node, "size", size)] * 2
        if not isinstance(size, list)
        else _vec(name, node, "size", size, (2,))[:2]
    )
    return sides, _flag(a.get("center", False))


def circle_args(node: Node, name: str) -> float:
    """``circle(r=1)`` or ``circle(d=...)``: the radius."""
    a = read_args(node, name, ("r",), ("d",))
    if "d" in a:
        return _num(name, node, "d", a["d"]) / 2
    return _num(name, node, "r", a.get("r", 1.0))


def polygon_args(node: Node, name: str) -> list[list[tuple[float, float]]]:
    """``polygon(points, paths)``: the loops (one per path; all points in order when no paths)."""
    a = read_args(node, name, ("points", "paths"), ())
    points = a.get("points")
    if not isinstance(points, list):
        raise ScadError(name, node.line, "polygon: points must be a vector of 2-vectors", "arguments")
    pts = [tuple(_vec(name, node, "each point", p, (2,))[:2]) for p in points]
    paths = a.get("paths")
    if paths is None:
        return [pts]
    if not isinstance(paths, list) or not all(isinstance(p, list) for p in paths):
        raise ScadError(name, node.line, "polygon: paths must be a vector of index vectors", "arguments")
    loops = []
    for path in paths:
        idx = [_num(name, node, "a path index", i) for i in path]
        if any(i != int(i) or not 0 <= i < len(pts) for i in idx):
            raise ScadError(name, node.line, "polygon: a path index is out of range", "arguments")
        loops.append([pts[int(i)] for i in idx])
    return loops


def extrude_args(node: Node, name: str) -> tuple[float, bool]:
    """``linear_extrude(height=100, center=false)``: ``(height, center)``; twist/scale other than 0/1 refused."""
    a = read_args(node, name, ("height",), ("center", "twist", "scale", "v", "file", "layer", "origin"))
    for key in ("v", "file", "layer", "origin"):
        if key in a:
            raise ScadError(
                name, node.line, f"linear_extrude({key}=...) is not supported", f"linear_extrude {key}"
            )
    if a.get("twist", 0.0) not in (0.0, None):
        raise ScadError(name, node.line, "linear_extrude with twist is not supported", "linear_extrude twist")
    if a.get("scale", 1.0) not in (1.0, [1.0, 1.0], None):
        raise ScadError(name, node.line, "linear_extrude with scale is not supported", "linear_extrude scale")
    h = _num(name, node, "height", a.get("height", 100.0))
    if h <= 0:
        raise ScadError(name, node.line, f"linear_extrude: height must be > 0, got {h:g}", "arguments")
    return h, _flag(a.get("center", False))


def transform_args(node: Node, name: str) -> tuple[str, Any]:
    """A transform's parameters: ``("translate", v3)``, ``("scale", v3)``, ``("mirror", v3)``,
    ``("rotate", (x, y, z))`` in degrees (applied about x, then y, then z) or ``("axis", (angle, v3))``."""
    if node.name == "rotate":
        a = read_args(node, name, ("a", "v"), ())
        angle = a.get("a", 0.0)
        if isinstance(angle, list):
            return "rotate", tuple(_vec(name, node, "a", angle, (1, 2, 3)))
        angle = _num(name, node, "a", angle)
        if "v" in a:
            axis = _vec(name, node, "v", a["v"], (3,))
            if not any(axis):
                raise ScadError(name, node.line, "rotate: the axis v is a zero vector", "arguments")
            return "axis", (angle, tuple(axis))
        return "rotate", (0.0, 0.0, angle)
    a = read_args(node, name, ("v",), ())
    if node.name == "scale":
        v = a.get("v", 1.0)
        if isinstance(v, float):
            return "scale", (_num(name, node, "v", v),) * 3
        return "scale", tuple(_vec(name, node, "v", v, (2, 3), fill=1.0))
    v = _vec(name, node, "v", a.get("v", [0.0, 0.0, 0.0]), (2, 3))
    return node.name, tuple(v)
