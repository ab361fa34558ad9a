"""Helpers for SVG element trees and attribute values, shared by the parse stage and its diagnosis.

Part of the parse stage of HiVG-style tokenization ("Hierarchical SVG Tokenization", 2026).
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

__all__ = ["length", "local_name", "paint_ref", "properties"]


def local_name(tag: object) -> str:
    """An element or attribute name without its ``{namespace}`` ('' for comments and processing instructions)."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def properties(el: ET.Element) -> dict[str, str]:
    """Presentation attributes and ``style`` declarations of one element (style wins), by local name."""
    props = {local_name(k): v for k, v in el.attrib.items()}
    for item in el.attrib.get("style", "").split(";"):
        if ":" in item:
            k, v = item.split(":", 1)
            props[k.strip()] = v.strip()
    return props


def paint_ref(value: object) -> str:
    """The id in a ``url(#id)`` paint ('' for anything else)."""
    text = str(value).strip() if isinstance(value, str) else ""
    if not text.startswith("url("):
        return ""
    return text[4:].split(")")[0].strip().strip("'\"").lstrip("#")


def length(value: object, default: float) -> float:
    """A plain (or ``px``) number; ``default`` when absent, unreadable or not finite."""
    text = str(value).strip()
    try:
        v = float(text[:-2] if text.endswith("px") else text)
    except ValueError:
        return default
    return v if math.isfinite(v) else default
