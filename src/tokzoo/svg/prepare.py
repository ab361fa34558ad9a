"""Rewrite an SVG element tree into what the parser should see: conditional processing resolved, root cleaned.

* ``<switch>`` (SVG 1.1 §5.8.2): only the first direct child that is a drawable element and whose conditional
  processing attributes pass is kept; the switch becomes a ``<g>`` (its transform, style and opacity still
  apply). Outside a switch, an element whose conditions fail is not drawn either. Conditions: an empty or
  unsupported ``requiredExtensions`` fails (no extension is supported), ``requiredFeatures`` passes (SVG 2
  dropped it, browsers and resvg ignore it), ``systemLanguage`` passes when one of its comma-separated tags
  matches a user language exactly or as a prefix (``en`` matches ``en-US``). The user languages default to
  none, as in the reference renderer (``resvg-py``), so that originals and parses agree.
* The outermost ``<svg>``'s ``x``/``y`` are dropped: SVG ignores them, and svgelements would otherwise read
  a namespace declaration ``xmlns:x="...1.0/"`` (Adobe Illustrator files) as ``x="1.0"`` and shift every shape.

Part of the parse stage of HiVG-style tokenization ("Hierarchical SVG Tokenization", 2026).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from tokzoo.svg.tree import local_name

__all__ = ["DRAWABLE", "conditions_pass", "prepare_tree"]

#: Elements a ``<switch>`` may choose: graphics and container elements the parser can draw (``foreignObject``
#: and unknown elements are skipped, as in resvg).
DRAWABLE = frozenset(
    [
        "g",
        "svg",
        "path",
        "rect",
        "circle",
        "ellipse",
        "line",
        "polyline",
        "polygon",
        "use",
        "switch",
        "a",
        "text",
        "image",
    ]
)
_NON_DRAWN = ("defs", "clipPath", "mask", "pattern", "marker", "symbol", "linearGradient", "radialGradient")


def conditions_pass(el: ET.Element, languages: tuple[str, ...] = ()) -> bool:
    """Whether ``el``'s conditional processing attributes evaluate to true for the user ``languages``."""
    attrs = {local_name(k): v for k, v in el.attrib.items()}
    if "requiredExtensions" in attrs:
        return False  # no extension is supported; an empty list is false too (SVG 1.1 §5.8.5)
    if "systemLanguage" in attrs:
        tags = [t.strip().lower() for t in attrs["systemLanguage"].split(",") if t.strip()]
        user = [u.lower() for u in languages]
        return any(t == u or t.startswith(u + "-") or u.startswith(t + "-") for t in tags for u in user)
    return True


def prepare_tree(root: ET.Element, languages: tuple[str, ...] = ()) -> ET.Element:
    """Resolve ``<switch>`` and conditional attributes and drop the root's ``x``/``y``, in place; returns
    ``root``."""
    for key in [k for k in root.attrib if local_name(k) in ("x", "y") and not k.startswith("{")]:
        del root.attrib[key]
    _resolve(root, languages)
    return root


def _resolve(parent: ET.Element, languages: tuple[str, ...]) -> None:
    if local_name(parent.tag) in _NON_DRAWN:
        return
    if local_name(parent.tag) == "switch":
        chosen = next(
            (c for c in parent if local_name(c.tag) in DRAWABLE and conditions_pass(c, languages)), None
        )
        for child in list(parent):
            if child is not chosen:
                parent.remove(child)
        parent.tag = parent.tag[: -len("switch")] + "g"
    for child in list(parent):
        if local_name(child.tag) not in _NON_DRAWN and not conditions_pass(child, languages):
            parent.remove(child)
        else:
            _resolve(child, languages)
