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

from tokzoo.svg.tree import properties

__all__ = [
    "LinearSpec",
    "gradient_elements",
    "gradient_stops",
    "href_chain",
    "linear_fill_points",
    "linear_gradients",
    "mean_colours",
    "number",
    "read_stop",
    "unit_fraction",
]

_XLINK = "{http://www.w3.org/1999/xlink}href"
_GEOMETRY = ("x1", "y1", "x2", "y2", "gradientUnits", "gradientTransform")
_DEFAULTS = {"x1": "0%", "y1": "0%", "x2": "100%", "y2": "0%", "gradientUnits": "objectBoundingBox"}


@dataclass
class LinearSpec:
    """A resolved ``<linearGradient>``: geometry attributes (strings) and stops ``(offset, rgb, alpha)``."""

    attrs: dict[str, str]
    stops: list[tuple[float, tuple[int, int, int], float]]


def read_stop(el: ET.Element) -> tuple[float, tuple[int, int, int], float] | None:
    """``(offset, rgb, alpha)`` of a ``<stop>``; None when its colour is unreadable."""
    props = properties(el)
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


def number(value: object, default: float) -> float:
    """A number, or a percentage as a fraction (``"50%"`` is 0.5); ``default`` when absent, unreadable or not
    finite."""
    try:
        text = str(value).strip()
        v = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except (TypeError, ValueError):
        return default
    return v if math.isfinite(v) else default


def unit_fraction(value: object, default: float) -> float:
    """A number or percentage clamped to [0, 1] (opacities, stop offsets); ``default`` when unreadable."""
    return min(max(number(value, default), 0.0), 1.0)


def gradient_elements(root: ET.Element) -> dict[str, ET.Element]:
    """``id -> element`` of every ``<linearGradient>``/``<radialGradient>`` of a document."""
    return {
        el.attrib["id"]: el
        for el in root.iter()
        if isinstance(el.tag, str)
        and el.tag.endswith(("linearGradient", "radialGradient"))
        and "id" in el.attrib
    }


def href_chain(el: ET.Element, gradients: dict[str, ET.Element]) -> list[ET.Element]:
    """``el`` and the gradients it inherits from through ``href``, nearest first (at most 16; a cycle ends
    the chain)."""
    chain = [el]
    while len(chain) < 16:
        link = chain[-1].attrib.get("href") or chain[-1].attrib.get(_XLINK) or ""
        node = gradients.get(link[1:]) if link.startswith("#") else None
        if node is None or any(node is seen for seen in chain):
            break
        chain.append(node)
    return chain


def gradient_stops(
    el: ET.Element, gradients: dict[str, ET.Element]
) -> list[tuple[float, tuple[int, int, int], float]]:
    """Stops ``(offset, rgb, alpha)`` of a gradient: its own, else the first inherited ones (SVG 1.1 §13.2.2);
    an offset below the previous one is raised to it, as SVG does."""
    for node in href_chain(el, gradients):
        stops = [s for child in node if str(child.tag).endswith("stop") and (s := read_stop(child))]
        if stops:
            for i in range(1, len(stops)):
                if stops[i][0] < stops[i - 1][0]:
                    stops[i] = (stops[i - 1][0], *stops[i][1:])
            return stops
    return []


def mean_colours(root: ET.Element) -> dict[str, tuple[tuple[int, int, int], float]]:
    """``id -> (mean stop RGB, mean stop opacity)`` of every gradient with stops: the flat colour that stands
    in for a paint the tokens cannot carry (a radial gradient, a gradient stroke)."""
    gradients = gradient_elements(root)
    out = {}
    for gid, el in gradients.items():
        stops = gradient_stops(el, gradients)
        if stops:
            rgb = tuple(round(sum(s[1][i] for s in stops) / len(stops)) for i in range(3))
            out[gid] = (rgb, sum(s[2] for s in stops) / len(stops))
    return out  # type: ignore[return-value]


def linear_gradients(root: ET.Element) -> dict[str, LinearSpec]:
    """``id -> LinearSpec`` of every ``<linearGradient>`` that (after ``href`` inheritance) has stops."""
    gradients = gradient_elements(root)
    out = {}
    for gid, el in gradients.items():
        if not el.tag.endswith("linearGradient"):
            continue
        attrs: dict[str, str] = {}
        for node in href_chain(el, gradients):  # own values first, then each referenced gradient's
            if node.tag.endswith("linearGradient"):
                for key in _GEOMETRY:
                    if key in node.attrib and key not in attrs:
                        attrs[key] = node.attrib[key]
        stops = gradient_stops(el, gradients)
        if stops:
            out[gid] = LinearSpec({**_DEFAULTS, **attrs}, stops)
    return out


def linear_fill_points(
    spec: LinearSpec,
    transform: se.Matrix,
    bbox: tuple[float, float, float, float] | None,
    viewport: tuple[float, float] = (1.0, 1.0),
) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """Document coordinates of the first and last stop of ``spec`` painted on an element with ``transform``
    and untransformed bounding box ``bbox``; None when the gradient is degenerate (no usable box).

    With ``gradientUnits="userSpaceOnUse"`` a percentage is of the ``viewport`` (its width for ``x1``/``x2``,
    its height for ``y1``/``y2``, in user units; SVG 1.1 §7.10)."""
    user = spec.attrs["gradientUnits"].strip() == "userSpaceOnUse"

    def coord(key: str, default: float) -> float:
        text = spec.attrs[key].strip()
        v = number(text[:-2] if text.endswith("px") else text, default)
        return v * viewport[key[0] == "y"] if user and text.endswith("%") else v

    a = (coord("x1", 0.0), coord("y1", 0.0))
    b = (coord("x2", viewport[0] if user else 1.0), coord("y2", 0.0))
    o0, o1 = spec.stops[0][0], spec.stops[-1][0]
    p = (a[0] + o0 * (b[0] - a[0]), a[1] + o0 * (b[1] - a[1]))
    q = (a[0] + o1 * (b[0] - a[0]), a[1] + o1 * (b[1] - a[1]))
    m = se.Matrix(spec.attrs["gradientTransform"]) if "gradientTransform" in spec.attrs else se.Matrix()
    if not user:
        if bbox is None or bbox[2] <= bbox[0] or bbox[3] <= bbox[1]:
            return None
        box = se.Matrix(bbox[2] - bbox[0], 0, 0, bbox[3] - bbox[1], bbox[0], bbox[1])
        m = m * box  # svgelements composes left to right: gradientTransform first, then the box
    m = m * transform
    p2, q2 = m.point_in_matrix_space(p), m.point_in_matrix_space(q)
    return (p2.x, p2.y), (q2.x, q2.y)
