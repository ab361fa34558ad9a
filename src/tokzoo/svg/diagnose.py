"""Why a reconstructed SVG differs from its original: the SVG features a file uses, and ablations of them.

A feature (text, a clip path, a gradient, a dash pattern...) *explains* part of a reconstruction's IoU loss
when removing it from the original — rewriting the original the way the tokenizer would ignore it — brings
the original's render closer to the reconstruction. :func:`explain` measures that gain per feature; the
feature with the largest gain is the file's main cause. Two properties are measured rather than ablated:
``hairline`` (most of the original's ink is below the 50 % alpha of the silhouette, so its silhouette is a
sampling artefact) and ``outside_page`` (the reconstruction draws where the original's viewport clips).
Used by ``benchmarks/svg.py --worst`` to rank the causes of lost fidelity of HiVG-style tokens
("Hierarchical SVG Tokenization", 2026).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field

from tokzoo.svg.gradients import gradient_elements, gradient_stops, href_chain, mean_colours
from tokzoo.svg.parse import dash_pattern
from tokzoo.svg.render import compare_renders, page_mask, render_svg
from tokzoo.svg.tree import length, local_name, paint_ref, properties

__all__ = ["ABLATIONS", "Explanation", "explain", "features"]

# ablated documents are written with the SVG namespace as the default (``<svg xmlns=...>``, as renderers expect)
ET.register_namespace("", "http://www.w3.org/2000/svg")
ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")


def _set_prop(el: ET.Element, name: str, value: str | None) -> None:
    """Set (or with ``None`` remove) property ``name`` both as an attribute and inside ``style``."""
    el.attrib.pop(name, None)
    if "style" in el.attrib:
        items = [i for i in el.attrib["style"].split(";") if i.split(":", 1)[0].strip() != name]
        el.attrib["style"] = ";".join(items)
    if value is not None:
        el.attrib[name] = value


def _drawn(root: ET.Element) -> list[ET.Element]:
    """Elements outside ``defs``/``metadata`` (what the document draws directly)."""
    out: list[ET.Element] = []

    def walk(el: ET.Element) -> None:
        for child in el:
            if local_name(child.tag) in (
                "defs",
                "metadata",
                "symbol",
                "pattern",
                "clipPath",
                "mask",
                "marker",
            ):
                continue
            out.append(child)
            walk(child)

    walk(root)
    return out


def _paint_kind(root: ET.Element, value: str) -> str | None:
    ref = paint_ref(value)
    if not ref:
        return None
    for el in root.iter():
        if el.attrib.get("id") == ref:
            return "pattern" if local_name(el.tag) == "pattern" else "gradient"
    return "gradient"


def _lossy_paint(root: ET.Element, key: str, value: str) -> bool:
    """Whether the tokens lose part of a gradient paint: any gradient stroke and radial fill (both become their
    mean colour), and a linear fill's middle stops and ``reflect``/``repeat`` spread (only its first and last
    stop are kept, padded)."""
    if _paint_kind(root, value) != "gradient":
        return False
    gradients = gradient_elements(root)
    el = gradients.get(paint_ref(value))
    if el is None:
        return False  # a missing gradient paints nothing, in the tokens too
    if key == "stroke" or local_name(el.tag) != "linearGradient":
        return True
    return len(gradient_stops(el, gradients)) > 2 or _spread(el, gradients) != "pad"


def _spread(el: ET.Element, gradients: dict[str, ET.Element]) -> str:
    """A gradient's ``spreadMethod``, inherited through ``href``."""
    for node in href_chain(el, gradients):
        if "spreadMethod" in node.attrib:
            return node.attrib["spreadMethod"].strip()
    return "pad"


def _lossy_dash(el: ET.Element) -> bool:
    """Whether the tokens lose part of an element's dashing: they keep the first (dash, gap) pair only and
    start the pattern at the path's start (no ``stroke-dashoffset``)."""
    props = properties(el)
    nums = dash_pattern(props.get("stroke-dasharray"))
    shifted = length(props.get("stroke-dashoffset"), 0.0) != 0
    return nums is not None and (nums != nums[:2] * (len(nums) // 2) or shifted)


def _has(root: ET.Element, name: str) -> bool:
    return any(_FEATURE_TEST[name](root, el) for el in _drawn(root))


_FEATURE_TEST: dict[str, Callable[[ET.Element, ET.Element], bool]] = {
    "text": lambda r, el: local_name(el.tag) in ("text", "flowRoot"),
    "image": lambda r, el: local_name(el.tag) == "image",
    "clip": lambda r, el: "url(" in properties(el).get("clip-path", ""),
    "mask": lambda r, el: "url(" in properties(el).get("mask", ""),
    "filter": lambda r, el: "url(" in properties(el).get("filter", ""),
    "marker": lambda r, el: any(
        "url(" in properties(el).get(k, "") for k in ("marker-start", "marker-mid", "marker-end")
    ),
    "gradient": lambda r, el: any(_lossy_paint(r, k, properties(el).get(k, "")) for k in ("fill", "stroke")),
    "pattern": lambda r, el: any(
        _paint_kind(r, properties(el).get(k, "")) == "pattern" for k in ("fill", "stroke")
    ),
    "dash": lambda r, el: _lossy_dash(el),
    "group_opacity": lambda r, el: (
        local_name(el.tag) in ("g", "svg", "use")
        and properties(el).get("opacity", "1").strip() not in ("1", "1.0", "")
    ),
}


def _drop_elements(tags: tuple[str, ...]) -> Callable[[ET.Element], None]:
    def run(root: ET.Element) -> None:
        for parent in list(root.iter()):
            for child in list(parent):
                if local_name(child.tag) in tags:
                    parent.remove(child)

    return run


def _drop_prop(*names: str, value: str | None = None) -> Callable[[ET.Element], None]:
    def run(root: ET.Element) -> None:
        for el in root.iter():
            for name in names:
                if name in properties(el):
                    _set_prop(el, name, value)

    return run


def _drop_patterns(root: ET.Element) -> None:
    """Pattern paints become ``none``, as in the tokens."""
    for el in _drawn(root):
        for key in ("fill", "stroke"):
            if _paint_kind(root, properties(el).get(key, "")) == "pattern":
                _set_prop(el, key, "none")


def _reduce_gradients(root: ET.Element) -> None:
    """Gradients reduced as the tokens carry them: a gradient stroke or radial fill becomes its mean stop
    colour (:func:`~tokzoo.svg.gradients.mean_colours`, the parser's), a linear fill keeps its first and last
    stop and pads."""
    means = mean_colours(root)
    for el in _drawn(root):
        props = properties(el)
        for key in ("fill", "stroke"):
            value = props.get(key, "")
            if not _lossy_paint(root, key, value):
                continue
            el_ref = gradient_elements(root)[paint_ref(value)]
            if key == "fill" and local_name(el_ref.tag) == "linearGradient":
                continue  # trimmed below, where its stops are
            rgb, alpha = means.get(paint_ref(value), (None, 0.0))
            if rgb is None:
                _set_prop(el, key, "none")
                continue
            _set_prop(el, key, "#{:02x}{:02x}{:02x}".format(*rgb))
            try:
                opacity = float(props.get(f"{key}-opacity", "1")) * alpha
            except ValueError:
                opacity = alpha
            _set_prop(el, f"{key}-opacity", f"{opacity:.4g}")
    gradients = gradient_elements(root)
    for el in gradients.values():
        if local_name(el.tag) != "linearGradient":
            continue
        for node in href_chain(el, gradients):
            node.attrib.pop("spreadMethod", None)
            stops = [child for child in node if local_name(child.tag) == "stop"]
            for child in stops[1:-1]:
                node.remove(child)


def _first_dash_pair(root: ET.Element) -> None:
    """Dash patterns cut to their first (dash, gap) pair, without an offset, as in the tokens."""
    for el in root.iter():
        props = properties(el)
        if "stroke-dashoffset" in props:
            _set_prop(el, "stroke-dashoffset", None)
        nums = dash_pattern(props.get("stroke-dasharray"))
        if nums is not None:
            _set_prop(el, "stroke-dasharray", f"{nums[0]!r} {nums[1]!r}")


#: Feature -> how to remove it from the original the way the tokenizer ignores it.
ABLATIONS: dict[str, Callable[[ET.Element], None]] = {
    "text": _drop_elements(("text", "flowRoot")),
    "image": _drop_elements(("image",)),
    "clip": _drop_prop("clip-path"),
    "mask": _drop_prop("mask"),
    "filter": _drop_prop("filter"),
    "marker": _drop_prop("marker-start", "marker-mid", "marker-end"),
    "gradient": _reduce_gradients,
    "pattern": _drop_patterns,
    "dash": _first_dash_pair,
}


def features(data: bytes) -> set[str]:
    """The ablatable features a document uses (names of :data:`_FEATURE_TEST`); empty for unreadable XML."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        return set()
    return {name for name in _FEATURE_TEST if _has(root, name)}


@dataclass
class Explanation:
    """IoU of a reconstruction, the features used, and the IoU gained by ablating each from the original."""

    iou: float
    used: set[str]
    gain: dict[str, float] = field(default_factory=dict)
    hairline: bool = False
    outside_page: float = 0.0

    @property
    def cause(self) -> str:
        """The main cause of the lost IoU: the ablation that gains most, else a measured property, else
        ``quantization`` (coordinates, palette, widths on the grid)."""
        best = max(self.gain.items(), key=lambda kv: kv[1], default=("", 0.0))
        candidates = [best, ("outside_page", self.outside_page)]
        name, gain = max(candidates, key=lambda kv: kv[1])
        if gain > 0.01:
            return name
        return "hairline" if self.hairline else "quantization"


def explain(original: bytes, reconstruction: str, size: int = 256) -> Explanation:
    """Ablate every feature ``original`` uses and measure how close each ablated render gets to the
    reconstruction's render."""
    rec = render_svg(reconstruction, size)
    target = render_svg(original, size)
    fid = compare_renders(rec, target)
    iou = fid.iou
    root = ET.fromstring(original)
    used = {name for name in _FEATURE_TEST if _has(root, name)}
    out = Explanation(iou, used)
    for name in sorted(used & ABLATIONS.keys()):
        ablated = ET.fromstring(original)
        ABLATIONS[name](ablated)
        try:
            out.gain[name] = compare_renders(rec, render_svg(ET.tostring(ablated), size)).iou - iou
        except Exception:  # an ablated document resvg cannot draw explains nothing
            out.gain[name] = 0.0
    out.hairline = fid.hairline
    outside = (rec[..., 3] > 0) & ~page_mask(original, size)
    if outside.any():
        clipped = rec.copy()
        clipped[outside] = 0
        out.outside_page = compare_renders(clipped, target).iou - iou
    return out
