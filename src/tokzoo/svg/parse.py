"""Parse real-world SVG into flat, styled, absolute paths on a square ``grid`` canvas (floats, not yet quantized).

Parsing uses ``svgelements`` (MIT) on the tree :mod:`tokzoo.svg.prepare` rewrote (``<switch>`` and conditional
attributes resolved, the root's ``x``/``y`` dropped): nested groups are flattened, ``use`` references are
expanded, and ``rect/circle/ellipse/line/polyline/polygon`` become paths. Each path is mapped from its user
space by its full transform here (arcs too: their mapped ellipse is computed exactly, also under shear); a
stroke whose transform stretches it anisotropically becomes a filled outline (:mod:`tokzoo.svg.outline`).
The document's viewport (its ``width``/``height``, or its ``viewBox``) is scaled uniformly so that its longer
side spans ``[0, grid]`` and centred on the square canvas. Group opacities multiply down the tree. A
linear-gradient fill becomes its first and last stop at the matching points of the gradient line
(:class:`LinearFill`); radial gradients and gradient strokes become the mean of their stops. Stroke caps,
joins and the first dash/gap pair are kept. Text, raster images, filters, masks and clip paths are dropped
(they are not paths).
Reference: HiVG, "Hierarchical SVG Tokenization", 2026 (the SVG programs HiVG tokenizes are these paths).
"""

from __future__ import annotations

import io
import math
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import svgelements as se

from tokzoo.core.limits import check_limit
from tokzoo.svg.bounds import check_tree
from tokzoo.svg.errors import SvgInputError, SvgLimitError
from tokzoo.svg.gradients import LinearSpec, linear_fill_points, linear_gradients, mean_colours, unit_fraction
from tokzoo.svg.outline import ANISOTROPY_TOLERANCE, anisotropy, stroke_outline
from tokzoo.svg.prepare import prepare_tree
from tokzoo.svg.tree import length, paint_ref
from tokzoo.svg.vocab import ARC_PROBES, CAPS, JOINS

__all__ = [
    "LinearFill",
    "Segment",
    "Shape",
    "dash_pattern",
    "page_size",
    "parse_svg",
    "read_svg_source",
]

#: ``("M", p) ("L", p) ("Q", c, p) ("C", c1, c2, p) ("A", rx, ry, rot_deg, large, sweep, p, probes) ("Z",)``;
#: points are ``(x, y)`` floats in grid units (``probes``: the arc's points at ``ARC_PROBES`` of its angle).
Segment = tuple
RGB = tuple[int, int, int]


@dataclass
class LinearFill:
    """A linear gradient reduced to two stops: ``start`` colour/opacity at point ``p1``, ``end`` at ``p2``
    (grid units); the element's fill opacity is already multiplied into both."""

    p1: tuple[float, float]
    p2: tuple[float, float]
    start: tuple[RGB, float]
    end: tuple[RGB, float]


@dataclass
class Shape:
    """One filled and/or stroked path on the grid canvas; colours are RGB byte triples, opacities in [0, 1].

    ``cap``/``join`` index :data:`~tokzoo.svg.vocab.CAPS`/``JOINS``; ``dash`` is (dash, gap) in grid units."""

    fill: RGB | None
    fill_opacity: float
    evenodd: bool
    stroke: RGB | None
    stroke_width: float
    stroke_opacity: float
    segments: list[Segment] = field(default_factory=list)
    linear: LinearFill | None = None
    cap: int = 0
    join: int = 0
    dash: tuple[float, float] | None = None


def read_svg_source(source: str | bytes | os.PathLike[str]) -> tuple[bytes, str]:
    """The bytes of ``source`` (SVG text, bytes, or a path) and a name for error messages."""
    if isinstance(source, bytes):
        return source, "<svg bytes>"
    if isinstance(source, str):
        return source.encode("utf-8"), "<svg text>"
    path = Path(source)
    try:
        check_limit(path, "svg_bytes", path.stat().st_size, "file size in bytes", SvgLimitError)
        return path.read_bytes(), str(path)
    except OSError as e:
        raise SvgInputError(f"{path}: cannot read ({e.strerror or e})") from None


def parse_svg(data: bytes, grid: int, name: str = "<svg>") -> list[Shape]:
    """All visible paths of an SVG document, flattened onto the ``grid`` canvas.

    Raises :class:`SvgInputError` for malformed XML, a ``<use>`` cycle, an unusable viewport, non-finite
    numbers, or a document with nothing drawable, and :class:`SvgLimitError` beyond a resource limit
    (bytes, elements after ``<use>`` expansion, nesting depth, segments; see :mod:`tokzoo.core.limits`).
    """
    check_limit(name, "svg_bytes", len(data), "file size in bytes", SvgLimitError)
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        raise SvgInputError(f"{name}: malformed XML ({e})") from None
    if not root.tag.endswith("svg"):
        raise SvgInputError(f"{name}: root element is <{root.tag}>, not <svg>")
    check_tree(root, name)  # before anything expands <use> references or recurses through the tree
    prepare_tree(root)
    gradients = mean_colours(root)
    linears = linear_gradients(root)
    try:
        doc = se.SVG.parse(io.BytesIO(ET.tostring(root)), reify=False)
    except RecursionError:
        raise SvgInputError(f"{name}: references nested too deeply (a <use> cycle?)") from None
    except Exception as e:  # svgelements raises many types on odd input; all mean "cannot parse this"
        raise SvgInputError(f"{name}: cannot parse SVG ({type(e).__name__}: {e})") from None
    if not isinstance(doc, se.SVG):
        raise SvgInputError(f"{name}: svgelements found no <svg> root element")
    scale, ox, oy = _viewport(doc, grid, name)
    viewport = (doc.viewbox.width, doc.viewbox.height) if doc.viewbox is not None else _page(doc, name)
    shapes: list[Shape] = []
    count = 0
    try:
        elements = list(_shapes(doc, 1.0))
    except RecursionError:
        raise SvgInputError(f"{name}: references nested too deeply (a <use> cycle?)") from None
    for element, opacity in elements:
        shape = _style(element, opacity, gradients, scale)
        if shape is None:
            continue
        try:
            path = se.Path(element)
            outline = _outline(element, path, shape, scale, ox, oy)
            if shape.fill is not None:
                factor = opacity * unit_fraction(element.values.get("fill-opacity"), 1.0)
                spec = linears.get(paint_ref(element.values.get("fill")))
                shape.linear = _linear_fill(element, path, spec, factor, viewport)
            to_grid = path.transform * se.Matrix(scale, 0, 0, scale, ox, oy)
            segments = list(path)  # in user space: _segment maps them (arcs exactly, also under shear)
        except SvgInputError:
            raise
        except Exception as e:  # a degenerate transform or shape svgelements cannot convert
            raise SvgInputError(
                f"{name}: cannot convert <{element.values.get('tag', 'shape')}> ({e})"
            ) from None
        count += len(segments) + len(outline or ())
        check_limit(name, "svg_segments", count, "path segments (stroke outlines included)", SvgLimitError)
        shape.segments = [s for seg in segments if (s := _segment(seg, to_grid, name)) is not None]
        if shape.linear is not None:
            lf = shape.linear
            lf.p1, lf.p2 = _grid(lf.p1, scale, ox, oy, name), _grid(lf.p2, scale, ox, oy, name)
            if math.dist(lf.p1, lf.p2) < 1:  # shorter than a grid step: one colour covers the shape
                shape.fill, shape.fill_opacity = _colour_at_centre(lf, shape.segments)
                shape.linear = None
            elif not _in_token_range(lf, grid):
                # slide toward the shape only then, so a decoded gradient (always inside the range) is never
                # moved a second time
                _slide_to_shape(lf, shape.segments)
                if not _in_token_range(lf, grid):
                    # the shape lies beyond the gradient's ends (a pad colour) or the gradient is far longer
                    # than the canvas: one colour, the one at the shape's centre
                    shape.fill, shape.fill_opacity = _colour_at_centre(lf, shape.segments)
                    shape.linear = None
        if outline is not None:  # the stroke becomes a filled outline drawn over the fill
            stroke = Shape(shape.stroke, shape.stroke_opacity, False, None, 0.0, 0.0, segments=outline)
            shape.stroke, shape.stroke_width, shape.stroke_opacity, shape.dash = None, 0.0, 0.0, None
            shapes += [s for s in (shape, stroke) if s.fill is not None and len(s.segments) > 1]
        elif any(s[0] != "M" for s in shape.segments):
            shapes.append(shape)
    if not shapes:
        raise SvgInputError(f"{name}: no drawable content (no visible filled or stroked path)")
    return shapes


def _shapes(group: se.Group, opacity: float):
    """``(shape, opacity)`` for every shape under ``group`` in drawing order; ``opacity`` is the product of the
    element's own and all its ancestors' ``opacity`` (svgelements inherits the nearest one instead)."""
    for element in group:
        own = unit_fraction((element.values.get("attributes") or {}).get("opacity"), 1.0)
        if isinstance(element, se.Shape):
            yield element, opacity * own
        elif isinstance(element, (se.Group, se.Use)):
            yield from _shapes(element, opacity * own)


def _viewport(doc: se.SVG, grid: int, name: str) -> tuple[float, float, float]:
    """Uniform scale and offsets that put the document's viewport, centred, into ``[0, grid]^2``."""
    width, height = _page(doc, name)
    scale = grid / max(width, height)
    return scale, (grid - width * scale) / 2, (grid - height * scale) / 2


def _page(doc: se.SVG, name: str) -> tuple[float, float]:
    """The page (viewport) size in px: ``width``/``height``, else the ``viewBox`` size."""
    width, height = doc.width, doc.height
    if doc.viewbox is not None and not (_positive(width) and _positive(height)):
        width, height = doc.viewbox.width, doc.viewbox.height
    if not (_positive(width) and _positive(height)):
        raise SvgInputError(f"{name}: no usable width/height or viewBox (got {width!r} x {height!r})")
    return float(width), float(height)


def page_size(svg: str | bytes, name: str = "<svg>") -> tuple[float, float]:
    """The page size (px) that :func:`parse_svg` uses, read from a whole document's root element (so entities
    its DOCTYPE defines, such as Illustrator's ``xmlns="&ns_svg;"``, are resolved)."""
    try:
        root = ET.fromstring(svg)
    except ET.ParseError as e:
        raise SvgInputError(f"{name}: malformed XML ({e})") from None
    attrs = {k: v for k, v in root.attrib.items() if not k.startswith("{")}
    tag = ET.tostring(ET.Element("{http://www.w3.org/2000/svg}svg", attrs))
    try:
        doc = se.SVG.parse(io.BytesIO(tag))
    except Exception as e:  # svgelements raises many types on odd input
        raise SvgInputError(f"{name}: cannot read the root <svg> tag ({type(e).__name__}: {e})") from None
    if not isinstance(doc, se.SVG):
        raise SvgInputError(f"{name}: svgelements found no <svg> root element")
    return _page(doc, name)


def _positive(v: object) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v) and v > 0


def _style(element: se.Shape, opacity: float, gradients: dict, scale: float) -> Shape | None:
    """The element's paint as a :class:`Shape` without segments, or None when it paints nothing."""
    values = element.values
    if values.get("visibility") in ("hidden", "collapse"):
        return None
    fill, fill_opacity = _paint(values.get("fill"), element.fill, gradients)
    fill_opacity *= (
        opacity * unit_fraction(values.get("fill-opacity"), 1.0) if _is_url(values.get("fill")) else opacity
    )
    stroke, stroke_opacity = _paint(values.get("stroke"), element.stroke, gradients)
    stroke_opacity *= (
        opacity * unit_fraction(values.get("stroke-opacity"), 1.0)
        if _is_url(values.get("stroke"))
        else opacity
    )
    width = element.implicit_stroke_width
    width = float(width) * scale if isinstance(width, (int, float)) and math.isfinite(width) else 0.0
    if stroke is None or width <= 0 or stroke_opacity <= 0:
        stroke, width, stroke_opacity = None, 0.0, 0.0
    if fill is None or fill_opacity <= 0:
        fill, fill_opacity = None, 0.0
    if fill is None and stroke is None:
        return None
    evenodd = str(values.get("fill-rule", "nonzero")).strip() == "evenodd"
    shape = Shape(fill, fill_opacity, evenodd, stroke, width, stroke_opacity)
    if stroke is not None:
        shape.cap = _choice(values.get("stroke-linecap"), CAPS)
        shape.join = _choice(values.get("stroke-linejoin"), JOINS)
        stretch = width / float(element.stroke_width) if element.stroke_width else scale
        shape.dash = _dash(values.get("stroke-dasharray"), stretch)
    return shape


def _outline(
    element: se.Shape, path: se.Path, shape: Shape, scale: float, ox: float, oy: float
) -> list[Segment] | None:
    """The stroke of ``element`` as filled outline segments on the grid when its transform stretches the
    width by more than :data:`~tokzoo.svg.outline.ANISOTROPY_TOLERANCE` with the direction, else None."""
    values = element.values
    if shape.stroke is None or "non-scaling-stroke" in str(values.get("vector-effect", "")):
        return None
    width = float(element.stroke_width or 0.0)
    to_grid = element.transform * se.Matrix(scale, 0, 0, scale, ox, oy)
    big, small = anisotropy(to_grid)
    if not (math.isfinite(width) and width * (big - small) > ANISOTROPY_TOLERANCE):
        return None
    limit = length(values.get("stroke-miterlimit"), 4.0)
    return stroke_outline(
        path,
        to_grid,
        width,
        CAPS[shape.cap],
        JOINS[shape.join],
        limit if limit >= 1 else 4.0,
        dash_pattern(values.get("stroke-dasharray")),
        length(values.get("stroke-dashoffset"), 0.0),
    )


def _choice(value: object, options: tuple[str, ...]) -> int:
    text = str(value).strip().lower()
    return options.index(text) if text in options else 0


def dash_pattern(value: object) -> list[float] | None:
    """A ``stroke-dasharray`` as an even-length list (an odd list repeats, SVG 1.1 §11.4); None for solid
    strokes (``none``, an unreadable or all-zero list, or a negative entry, which SVG treats as solid)."""
    parts = [p for p in str(value or "none").replace(",", " ").split() if p]
    try:
        nums = [float(p[:-2] if p.endswith("px") else p) for p in parts]
    except ValueError:
        return None
    if not nums or any(not math.isfinite(n) or n < 0 for n in nums) or sum(nums) <= 0:
        return None
    return nums * 2 if len(nums) % 2 else nums


def _dash(value: object, scale: float) -> tuple[float, float] | None:
    """The first (dash, gap) of a ``stroke-dasharray`` in grid units; None for solid strokes."""
    nums = dash_pattern(value)
    return None if nums is None else (nums[0] * scale, nums[1] * scale)


def _linear_fill(
    element: se.Shape,
    path: se.Path,
    spec: LinearSpec | None,
    factor: float,
    viewport: tuple[float, float],
) -> LinearFill | None:
    """The two-stop linear gradient filling ``element`` (document coordinates), or None for other paints;
    ``viewport``: the root viewport's size in user units (what ``userSpaceOnUse`` percentages are of)."""
    if spec is None:
        return None
    box = path.bbox(transformed=False)
    points = linear_fill_points(spec, element.transform, box, viewport)
    if points is None:
        return None
    (_, rgb0, a0), (_, rgb1, a1) = spec.stops[0], spec.stops[-1]
    return LinearFill(points[0], points[1], (rgb0, a0 * factor), (rgb1, a1 * factor))


def _in_token_range(lf: LinearFill, grid: int) -> bool:
    """Whether both gradient points lie in the tokens' coordinate range: the canvas plus half a canvas."""
    return all(-grid / 2 <= v <= 1.5 * grid for v in (*lf.p1, *lf.p2))


def _slide_to_shape(lf: LinearFill, segments: list[Segment]) -> None:
    """Move both gradient points perpendicular to the gradient line until the line passes through the centre
    of the segment end points: the same gradient (colours depend only on the position along the line), but
    with points near the shape instead of beyond the coordinate range, where quantization would clamp them."""
    centre = _centre(segments)
    if centre is None:
        return
    cx, cy = centre
    dx, dy = lf.p2[0] - lf.p1[0], lf.p2[1] - lf.p1[1]
    t = ((cx - lf.p1[0]) * dx + (cy - lf.p1[1]) * dy) / (dx * dx + dy * dy)
    vx, vy = cx - (lf.p1[0] + t * dx), cy - (lf.p1[1] + t * dy)
    lf.p1, lf.p2 = (lf.p1[0] + vx, lf.p1[1] + vy), (lf.p2[0] + vx, lf.p2[1] + vy)


def _centre(segments: list[Segment]) -> tuple[float, float] | None:
    """The mean of the segment end points; None when there are none."""
    pts = [s[-1] if s[0] != "A" else s[-2] for s in segments if s[0] != "Z"]
    if not pts:
        return None
    return sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts)


def _colour_at_centre(lf: LinearFill, segments: list[Segment]) -> tuple[RGB, float]:
    """The gradient's colour and opacity at the centre of the segment end points (a pad gradient beyond its
    ends is its first/last stop colour); the middle of the gradient for a path without points."""
    centre = _centre(segments)
    dx, dy = lf.p2[0] - lf.p1[0], lf.p2[1] - lf.p1[1]
    norm = dx * dx + dy * dy
    if centre is None or norm == 0:
        t = 0.5
    else:
        cx, cy = centre
        t = min(max(((cx - lf.p1[0]) * dx + (cy - lf.p1[1]) * dy) / norm, 0.0), 1.0)
    (c0, a0), (c1, a1) = lf.start, lf.end
    rgb = tuple(round(c0[i] + t * (c1[i] - c0[i])) for i in range(3))
    return rgb, a0 + t * (a1 - a0)  # type: ignore[return-value]


def _is_url(value: object) -> bool:
    return isinstance(value, str) and value.strip().startswith("url(")


def _paint(raw: object, color: object, gradients: dict) -> tuple[tuple[int, int, int] | None, float]:
    """(RGB, alpha) of a paint: a gradient reference becomes its mean stop colour."""
    if _is_url(raw):
        return gradients.get(paint_ref(raw), (None, 0.0))
    if not isinstance(color, se.Color) or color.value is None:
        return None, 0.0
    return (color.red, color.green, color.blue), color.alpha / 255


def _grid(p: tuple[float, float], scale: float, ox: float, oy: float, name: str) -> tuple[float, float]:
    x, y = p[0] * scale + ox, p[1] * scale + oy
    if not (math.isfinite(x) and math.isfinite(y)):
        raise SvgInputError(f"{name}: non-finite coordinate ({p[0]}, {p[1]}) in a path or gradient")
    return x, y


def _mapped(p: se.Point, m: se.Matrix, name: str) -> tuple[float, float]:
    q = m.point_in_matrix_space(p)
    x, y = float(q.x), float(q.y)
    if not (math.isfinite(x) and math.isfinite(y)):
        raise SvgInputError(f"{name}: non-finite coordinate ({p.x}, {p.y}) in a path")
    return x, y


def _mapped_ellipse(rx: float, ry: float, rot: float, m: se.Matrix) -> tuple[float, float, float]:
    """Radii and rotation (degrees) of the ellipse (``rx``, ``ry``, ``rot`` radians) mapped by ``m``: the
    singular values and left singular vector of ``m · R(rot) · diag(rx, ry)`` (exact under shear too)."""
    c, s = math.cos(rot), math.sin(rot)
    b = np.array([[m.a, m.c], [m.b, m.d]], dtype=float) @ np.array([[c * rx, -s * ry], [s * rx, c * ry]])
    u, sigma, _ = np.linalg.svd(b)
    if (
        sigma[0] - sigma[1] <= 1e-9 * sigma[0]
    ):  # a circle: any rotation draws it; keep 0 (fewer distinct tokens)
        return float(sigma[0]), float(sigma[1]), 0.0
    return float(sigma[0]), float(sigma[1]), math.degrees(math.atan2(u[1, 0], u[0, 0])) % 180


def _segment(seg: se.PathSegment, m: se.Matrix, name: str) -> Segment | None:
    """A user-space path segment mapped to the grid by ``m``."""
    pt = lambda p: _mapped(p, m, name)  # noqa: E731
    if isinstance(seg, se.Move):
        return ("M", pt(seg.end))
    if isinstance(seg, se.Close):
        return ("Z",)
    if isinstance(seg, se.Line):
        return ("L", pt(seg.end))
    if isinstance(seg, se.QuadraticBezier):
        return ("Q", pt(seg.control), pt(seg.end))
    if isinstance(seg, se.CubicBezier):
        return ("C", pt(seg.control1), pt(seg.control2), pt(seg.end))
    if isinstance(seg, se.Arc):
        if not all(math.isfinite(float(v)) for v in (seg.rx, seg.ry, seg.get_rotation(), seg.sweep)):
            raise SvgInputError(f"{name}: non-finite arc parameters in a path")
        rx, ry, rot = _mapped_ellipse(float(seg.rx), float(seg.ry), float(seg.get_rotation()), m)
        if not all(math.isfinite(v) for v in (rx, ry, rot)):
            raise SvgInputError(f"{name}: non-finite arc parameters in a path")
        if min(rx, ry) <= 0:  # a zero radius (or a transform that flattens the ellipse): a line (SVG F.6.2)
            return ("L", pt(seg.end))
        flip = float(m.a) * float(m.d) - float(m.b) * float(m.c) < 0  # a mirror reverses the sweep
        large, sweep = int(abs(seg.sweep) > math.pi), int((seg.sweep >= 0) != flip)
        probes = tuple(pt(seg.point(t)) for t in ARC_PROBES)
        return ("A", rx, ry, rot, large, sweep, pt(seg.end), probes)
    return None
