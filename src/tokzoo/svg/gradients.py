"""Linear gradients of an SVG document, reduced to what a token header can carry: two stops on a line.

``<linearGradient>`` attributes and stops are inherited through ``href`` chains (SVG 1.1 §13.2.2). A gradient
becomes its first and last stop, placed at their offsets along the gradient line, in document coordinates:
``objectBoundingBox`` units map through the element's bounding box, ``gradientTransform`` and the element's
own transform apply. Stops in between are dropped (most real gradients have two; shading ramps keep their
opacity ramp). Part of HiVG-style tokenization ("Hierarchical SVG Tokenization", 2026), whose attribute
tokens are extended here from flat colours to two-stop gradients.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import svgelements as se

__all__ = ["LinearSpec", "linear_fill_points", "linear_gradients", "read_stop"]

_XLINK = "{http://www.w3.org/1999/xlink}href"
_GEOMETRY = ("x1", "y1", "x2", "y2", "gradientUnits", "gradientTransform")
_DEFAULTS = {"x1": "0%", "y1": "0%", "x2": "100%", "y2": "0%", "gradientUnits": "objectBoundingBox"}


@dataclass
class LinearSpec:
    """A resolved ``<linearGradient>``: geometry attributes (strings) and stops ``(offset, rgb, alpha)``."""

    attrs: dict[str, str]
    stops: list[tuple[float, tuple[int, int, int], float]]


def _props(el: ET.Element) -> dict[str, str]:
    props = {k.rsplit("}", 1)[-1]: v for k, v in el.attrib.items()}
    for item in el.attrib.get("style", "").split(";"):
        if ":" in item:
            k, v = item.split(":", 1)
            props[k.strip()] = v.strip()
    return props


def read_stop(el: ET.Element) -> tuple[float, tuple[int, int, int], float] | None:
    """``(offset, rgb, alpha)`` of a ``<stop>``; None when its colour is unreadable."""
    props = _props(el)
    try:
        colour = se.Color(props.get("stop-color", "black"))
    except Exception:  # an unreadable colour string
        return None
    if colour.value is None:
        return None
    return (
        unit_fraction(props.get("offset"), 0.0),
        (colour.red, colour.green, colour.blue),
        unit_fraction(props.get("stop-opacity"), 1.0) * colour.alpha / 255,
    )


def unit_fraction(value: object, default: float) -> float:
    """A number or percentage clamped to [0, 1]; ``default`` when absent or unreadable."""
    try:
        text = str(value).strip()
        v = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except (TypeError, ValueError):
        return default
    return min(max(v, 0.0), 1.0) if math.isfinite(v) else default


def linear_gradients(root: ET.Element) -> dict[str, LinearSpec]:
    """``id -> LinearSpec`` of every ``<linearGradient>`` that (after ``href`` inheritance) has stops."""
    raw: dict[str, ET.Element] = {}
    for el in root.iter():
        if (
            isinstance(el.tag, str)
            and el.tag.endswith(("linearGradient", "radialGradient"))
            and "id" in el.attrib
        ):
            raw[el.attrib["id"]] = el
    out = {}
    for gid, el in raw.items():
        if not el.tag.endswith("linearGradient"):
            continue
        attrs: dict[str, str] = {}
        stops: list = []
        node, hops = el, 0
        while node is not None and hops < 16:  # own values first, then each referenced gradient's
            for key in _GEOMETRY:
                if key in node.attrib and key not in attrs and node.tag.endswith("linearGradient"):
                    attrs[key] = node.attrib[key]
            if not stops:
                stops = [s for child in node if str(child.tag).endswith("stop") and (s := read_stop(child))]
            link = node.attrib.get("href") or node.attrib.get(_XLINK) or ""
            node, hops = (raw.get(link[1:]) if link.startswith("#") else None), hops + 1
        if stops:
            for i in range(1, len(stops)):  # offsets never decrease (SVG clamps each to the previous)
                if stops[i][0] < stops[i - 1][0]:
                    stops[i] = (stops[i - 1][0], *stops[i][1:])
            out[gid] = LinearSpec({**_DEFAULTS, **attrs}, stops)
    return out


def _coord(value: str, default: float) -> float:
    text = value.strip()
    try:
        v = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        return default
    return v if math.isfinite(v) else default


def linear_fill_points(
    spec: LinearSpec, transform: se.Matrix, bbox: tuple[float, float, float, float] | None
) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """Document coordinates of the first and last stop of ``spec`` painted on an element with ``transform``
    and untransformed bounding box ``bbox``; None when the gradient is degenerate (no usable box)."""
    a = (_coord(spec.attrs["x1"], 0.0), _coord(spec.attrs["y1"], 0.0))
    b = (_coord(spec.attrs["x2"], 1.0), _coord(spec.attrs["y2"], 0.0))
    o0, o1 = spec.stops[0][0], spec.stops[-1][0]
    p = (a[0] + o0 * (b[0] - a[0]), a[1] + o0 * (b[1] - a[1]))
    q = (a[0] + o1 * (b[0] - a[0]), a[1] + o1 * (b[1] - a[1]))
    m = se.Matrix(spec.attrs["gradientTransform"]) if "gradientTransform" in spec.attrs else se.Matrix()
    if spec.attrs["gradientUnits"].strip() == "objectBoundingBox":
        if bbox is None or bbox[2] <= bbox[0] or bbox[3] <= bbox[1]:
            return None
        box = se.Matrix(bbox[2] - bbox[0], 0, 0, bbox[3] - bbox[1], bbox[0], bbox[1])
        m = m * box  # svgelements composes left to right: gradientTransform first, then the box
    m = m * transform
    p2, q2 = m.point_in_matrix_space(p), m.point_in_matrix_space(q)
    return (p2.x, p2.y), (q2.x, q2.y)
