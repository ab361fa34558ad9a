"""Parse real-world SVG into flat, styled, absolute paths on a square ``grid`` canvas (floats, not yet quantized).

Parsing uses ``svgelements`` (MIT): transforms and nested groups are applied (``reify``), ``use`` references are
expanded, and ``rect/circle/ellipse/line/polyline/polygon`` become paths. The document's viewport (its
``width``/``height``, or its ``viewBox``) is scaled uniformly so that its longer side spans ``[0, grid]`` and
centred on the square canvas. Gradient paints, which a palette token cannot express, are replaced by the mean
of their stop colours. Text, raster images, filters, masks and clip paths are dropped (they are not paths).
Reference: HiVG, "Hierarchical SVG Tokenization", 2026 (the SVG programs HiVG tokenizes are these paths).
"""

from __future__ import annotations

import io
import math
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import svgelements as se

from tokzoo.svg.errors import SvgInputError

__all__ = ["MAX_SEGMENTS", "MAX_SVG_BYTES", "Segment", "Shape", "parse_svg", "read_svg_source"]

MAX_SVG_BYTES = 32 * 2**20  # a larger file is refused rather than parsed for minutes
MAX_SEGMENTS = 200_000  # path segments per document

#: ``("M", p) ("L", p) ("Q", c, p) ("C", c1, c2, p) ("A", rx, ry, rot_deg, large, sweep, p) ("Z",)``;
#: points are ``(x, y)`` floats in grid units.
Segment = tuple


@dataclass
class Shape:
    """One filled and/or stroked path on the grid canvas; colours are RGB byte triples, opacities in [0, 1]."""

    fill: tuple[int, int, int] | None
    fill_opacity: float
    evenodd: bool
    stroke: tuple[int, int, int] | None
    stroke_width: float
    stroke_opacity: float
    segments: list[Segment] = field(default_factory=list)


def read_svg_source(source: str | bytes | os.PathLike[str]) -> tuple[bytes, str]:
    """The bytes of ``source`` (SVG text, bytes, or a path) and a name for error messages."""
    if isinstance(source, bytes):
        return source, "<svg bytes>"
    if isinstance(source, str):
        return source.encode("utf-8"), "<svg text>"
    path = Path(source)
    try:
        if path.stat().st_size > MAX_SVG_BYTES:
            raise SvgInputError(f"{path}: larger than {MAX_SVG_BYTES} bytes")
        return path.read_bytes(), str(path)
    except OSError as e:
        raise SvgInputError(f"{path}: cannot read ({e.strerror or e})") from None


def parse_svg(data: bytes, grid: int, name: str = "<svg>") -> list[Shape]:
    """All visible paths of an SVG document, flattened onto the ``grid`` canvas.

    Raises :class:`SvgInputError` for malformed XML, an unusable viewport, non-finite numbers, too many
    segments, or a document with nothing drawable.
    """
    if len(data) > MAX_SVG_BYTES:
        raise SvgInputError(f"{name}: larger than {MAX_SVG_BYTES} bytes")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        raise SvgInputError(f"{name}: malformed XML ({e})") from None
    if not root.tag.endswith("svg"):
        raise SvgInputError(f"{name}: root element is <{root.tag}>, not <svg>")
    gradients = _gradient_colours(root)
    try:
        doc = se.SVG.parse(io.BytesIO(data), reify=True)
    except RecursionError:
        raise SvgInputError(f"{name}: references nested too deeply (a <use> cycle?)") from None
    except Exception as e:  # svgelements raises many types on odd input; all mean "cannot parse this"
        raise SvgInputError(f"{name}: cannot parse SVG ({type(e).__name__}: {e})") from None
    if not isinstance(doc, se.SVG):
        raise SvgInputError(f"{name}: svgelements found no <svg> root element")
    scale, ox, oy = _viewport(doc, grid, name)
    shapes: list[Shape] = []
    count = 0
    try:
        elements = list(doc.elements())
    except RecursionError:
        raise SvgInputError(f"{name}: references nested too deeply (a <use> cycle?)") from None
    for element in elements:
        if not isinstance(element, se.Shape):
            continue
        shape = _style(element, gradients, scale)
        if shape is None:
            continue
        try:
            path = se.Path(element)
            path.reify()
            segments = list(path)
        except Exception as e:  # a degenerate transform or shape svgelements cannot convert
            raise SvgInputError(
                f"{name}: cannot convert <{element.values.get('tag', 'shape')}> ({e})"
            ) from None
        count += len(segments)
        if count > MAX_SEGMENTS:
            raise SvgInputError(f"{name}: more than {MAX_SEGMENTS} path segments")
        shape.segments = [s for seg in segments if (s := _segment(seg, scale, ox, oy, name)) is not None]
        if any(s[0] != "M" for s in shape.segments):
            shapes.append(shape)
    if not shapes:
        raise SvgInputError(f"{name}: no drawable content (no visible filled or stroked path)")
    return shapes


def _viewport(doc: se.SVG, grid: int, name: str) -> tuple[float, float, float]:
    """Uniform scale and offsets that put the document's viewport, centred, into ``[0, grid]^2``."""
    width, height = doc.width, doc.height
    if doc.viewbox is not None and not (_positive(width) and _positive(height)):
        width, height = doc.viewbox.width, doc.viewbox.height
    if not (_positive(width) and _positive(height)):
        raise SvgInputError(f"{name}: no usable width/height or viewBox (got {width!r} x {height!r})")
    scale = grid / max(width, height)
    return scale, (grid - width * scale) / 2, (grid - height * scale) / 2


def _positive(v: object) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v) and v > 0


def _style(element: se.Shape, gradients: dict[str, tuple[tuple[int, int, int], float]], scale: float):
    """The element's paint as a :class:`Shape` without segments, or None when it paints nothing."""
    values = element.values
    if values.get("visibility") in ("hidden", "collapse"):
        return None
    opacity = _unit(values.get("opacity"), 1.0)
    fill, fill_opacity = _paint(values.get("fill"), element.fill, gradients)
    fill_opacity *= (
        opacity * _unit(values.get("fill-opacity"), 1.0) if _is_url(values.get("fill")) else opacity
    )
    stroke, stroke_opacity = _paint(values.get("stroke"), element.stroke, gradients)
    stroke_opacity *= (
        opacity * _unit(values.get("stroke-opacity"), 1.0) if _is_url(values.get("stroke")) else opacity
    )
    width = element.stroke_width
    width = float(width) * scale if isinstance(width, (int, float)) and math.isfinite(width) else 0.0
    if stroke is None or width <= 0 or stroke_opacity <= 0:
        stroke, width, stroke_opacity = None, 0.0, 0.0
    if fill is None or fill_opacity <= 0:
        fill, fill_opacity = None, 0.0
    if fill is None and stroke is None:
        return None
    evenodd = str(values.get("fill-rule", "nonzero")).strip() == "evenodd"
    return Shape(fill, fill_opacity, evenodd, stroke, width, stroke_opacity)


def _is_url(value: object) -> bool:
    return isinstance(value, str) and value.strip().startswith("url(")


def _paint(raw: object, color: object, gradients: dict) -> tuple[tuple[int, int, int] | None, float]:
    """(RGB, alpha) of a paint: a gradient reference becomes its mean stop colour."""
    if _is_url(raw):
        ref = str(raw).strip()[4:].split(")")[0].strip().strip("'\"").lstrip("#")
        return gradients.get(ref, (None, 0.0))
    if not isinstance(color, se.Color) or color.value is None:
        return None, 0.0
    return (color.red, color.green, color.blue), color.alpha / 255


def _unit(value: object, default: float) -> float:
    """A number clamped to [0, 1] (``50%`` allowed); ``default`` when absent or unreadable."""
    try:
        text = str(value).strip()
        v = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except (TypeError, ValueError):
        return default
    return min(max(v, 0.0), 1.0) if math.isfinite(v) else default


def _point(p: se.Point, scale: float, ox: float, oy: float, name: str) -> tuple[float, float]:
    x, y = p.x * scale + ox, p.y * scale + oy
    if not (math.isfinite(x) and math.isfinite(y)):
        raise SvgInputError(f"{name}: non-finite coordinate ({p.x}, {p.y}) in a path")
    return x, y


def _segment(seg: se.PathSegment, scale: float, ox: float, oy: float, name: str) -> Segment | None:
    pt = lambda p: _point(p, scale, ox, oy, name)  # noqa: E731
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
        rx, ry, rot = seg.rx * scale, seg.ry * scale, math.degrees(float(seg.get_rotation()))
        if not all(math.isfinite(v) for v in (rx, ry, rot, seg.sweep)):
            raise SvgInputError(f"{name}: non-finite arc parameters in a path")
        return ("A", abs(rx), abs(ry), rot, int(abs(seg.sweep) > math.pi), int(seg.sweep >= 0), pt(seg.end))
    return None


def _gradient_colours(root: ET.Element) -> dict[str, tuple[tuple[int, int, int] | None, float]]:
    """``id -> (mean stop RGB, mean stop opacity)`` of every linear/radial gradient (following ``href``)."""
    own: dict[str, list[tuple[tuple[int, int, int], float]]] = {}
    href: dict[str, str] = {}
    for el in root.iter():
        if not el.tag.endswith(("linearGradient", "radialGradient")) or "id" not in el.attrib:
            continue
        gid = el.attrib["id"]
        link = el.attrib.get("href") or el.attrib.get("{http://www.w3.org/1999/xlink}href")
        if link and link.startswith("#"):
            href[gid] = link[1:]
        own[gid] = [stop for child in el if child.tag.endswith("stop") and (stop := _stop(child))]
    out = {}
    for gid in own:
        target, hops = gid, 0
        while not own.get(target) and target in href and hops < 16:
            target, hops = href[target], hops + 1
        stops = own.get(target) or []
        if stops:
            rgb = tuple(round(sum(s[0][i] for s in stops) / len(stops)) for i in range(3))
            out[gid] = (rgb, sum(s[1] for s in stops) / len(stops))
    return out


def _stop(el: ET.Element) -> tuple[tuple[int, int, int], float] | None:
    props = dict(el.attrib)
    for item in props.get("style", "").split(";"):
        if ":" in item:
            k, v = item.split(":", 1)
            props[k.strip()] = v.strip()
    try:
        colour = se.Color(props.get("stop-color", "black"))
    except Exception:  # an unreadable colour string
        return None
    if colour.value is None:
        return None
    return (colour.red, colour.green, colour.blue), _unit(props.get("stop-opacity"), 1.0) * colour.alpha / 255
