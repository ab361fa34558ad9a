"""Direct evaluation of a parsed OpenSCAD CSG tree with manifold3d, the ground truth of the converter.

Each node is built with the kernel's own primitives and operations, as the tree says and without
linearising it: ``Manifold.cube``, ``Manifold.cylinder``, ``Manifold.extrude`` of ``CrossSection.square`` /
``circle`` / even-odd polygons, the kernel's ``translate``/``rotate``/``mirror``/``scale`` (and an axis-angle
matrix for ``rotate(a, v)``), and its union/difference/intersection. Circles get the segment count of the CAD
kernel (:data:`tokzoo.cad.sketch.SEGMENTS_PER_TURN`), so volume IoU against ``execute`` of the converted program
checks the conversion (frames, normalisation, linearisation), not the faceting. Only the subset the converter
reads is evaluated; anything else is a :class:`~tokzoo.cad.scad_parse.ScadError`.
"""

from __future__ import annotations

import numpy as np

from tokzoo.cad.openscad import PASS, TRANSFORMS, transform_matrix
from tokzoo.cad.scad_args import (
    circle_args,
    cube_args,
    cylinder_args,
    extrude_args,
    polygon_args,
    square_args,
    transform_args,
)
from tokzoo.cad.scad_eval import Node, ScadError, ScadFile
from tokzoo.cad.sketch import SEGMENTS_PER_TURN

__all__ = ["evaluate_scad"]


def _fold(parts: list, op: str):
    """OpenSCAD's n-ary boolean of ``parts`` (None: nothing): a difference of nothing is nothing, an
    intersection with nothing is nothing, and nothing is dropped from a union or a subtraction."""
    if op == "difference":
        if not parts or parts[0] is None:
            return None
        parts = [parts[0]] + [p for p in parts[1:] if p is not None]
    elif op == "union":
        parts = [p for p in parts if p is not None]
    elif any(p is None for p in parts):
        return None
    if not parts:
        return None
    out = parts[0]
    for p in parts[1:]:
        out = out + p if op == "union" else out - p if op == "difference" else out ^ p
    return out


def _evaluate(node: Node, name: str, flat: bool):
    """The manifold3d ``Manifold`` (``CrossSection`` when ``flat``) of ``node``; None for nothing."""
    from manifold3d import CrossSection, FillRule, Manifold

    if "*" in node.modifier or "%" in node.modifier or node.name == "echo":
        return None
    kids = [] if node.name == "linear_extrude" else [_evaluate(c, name, flat) for c in node.children]
    if node.name in PASS:
        return _fold(kids, "union")
    if node.name in ("difference", "intersection"):
        return _fold(kids, node.name)
    if node.name in TRANSFORMS:
        body = _fold(kids, "union")
        if body is None:
            return None
        kind, v = transform_args(node, name)
        if kind == "translate":
            return body.translate(v[:2] if flat else v)
        if kind == "scale":
            return body.scale(v[:2] if flat else v)
        if kind == "mirror":
            return body if not any(v) else body.mirror(v[:2] if flat else v)
        if kind == "rotate":
            return body.rotate(v[2]) if flat else body.rotate(v)
        return body.transform(transform_matrix(kind, v)[:3])
    if node.name == "linear_extrude":
        h, center = extrude_args(node, name)
        section = _fold([_evaluate(c, name, True) for c in node.children], "union")
        if section is None:
            return None
        solid = Manifold.extrude(section, h)
        return solid.translate((0, 0, -h / 2)) if center else solid
    if node.name == "cube":
        size, center = cube_args(node, name)
        return Manifold.cube(size, center) if min(size) > 0 else None
    if node.name == "cylinder":
        h, r1, r2, center = cylinder_args(node, name)
        if h <= 0 or r1 <= 0:
            return None
        return Manifold.cylinder(h, r1, r2, SEGMENTS_PER_TURN, center)
    if node.name == "square":
        size, center = square_args(node, name)
        return CrossSection.square(size, center) if min(size) > 0 else None
    if node.name == "circle":
        r = circle_args(node, name)
        return CrossSection.circle(r, SEGMENTS_PER_TURN) if r > 0 else None
    if node.name == "polygon":
        loops = [np.asarray(lp, np.float64).reshape(-1, 2) for lp in polygon_args(node, name)]
        return CrossSection(loops, FillRule.EvenOdd)
    raise ScadError(name, node.line, f"{node.name} is not supported", node.name)


def evaluate_scad(scad: ScadFile):
    """The manifold3d solid of the whole file (its top-level statements joined); None when it makes nothing."""
    return _fold([_evaluate(n, scad.name, False) for n in scad.nodes], "union")
