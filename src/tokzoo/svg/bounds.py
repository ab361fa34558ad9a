"""Bounds on an SVG element tree, checked before anything expands or recurses through it.

``<use>`` references are expanded by the parser, so a small file of nested references can stand for an
astronomically large document (a "use bomb"), and a reference to an ancestor never ends. :func:`check_tree`
counts the elements and the nesting depth the document *would* have once every reference is expanded, without
expanding anything (each element's expanded size is computed once), and refuses cycles, too many elements and
too deep nesting with one-line errors (:class:`~tokzoo.svg.errors.SvgLimitError`). It never recurses, so
it also handles trees nested deeper than Python's recursion limit.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from tokzoo.core.limits import check_limit
from tokzoo.svg.errors import SvgInputError, SvgLimitError
from tokzoo.svg.tree import local_name

__all__ = ["check_tree"]

_IN_PROGRESS = -1


def _reference(el: ET.Element) -> str:
    """The id a ``<use>`` element points to ('' if none or not a local ``#id``)."""
    if local_name(el.tag) != "use":
        return ""
    href = next((v for k, v in el.attrib.items() if local_name(k) == "href"), "").strip()
    return href[1:] if href.startswith("#") else ""


def _index(root: ET.Element, name: str) -> dict[str, ET.Element]:
    """Elements by id, walking the tree without recursion; refuses too many or too deeply nested elements."""
    ids: dict[str, ET.Element] = {}
    stack, count = [(root, 1)], 0
    while stack:
        el, depth = stack.pop()
        count += 1
        check_limit(name, "svg_depth", depth, "element nesting depth", SvgLimitError)
        check_limit(name, "svg_elements", count, "element count", SvgLimitError)
        ids.setdefault(el.get("id", ""), el)
        stack.extend((child, depth + 1) for child in el)
    return ids


def check_tree(root: ET.Element, name: str) -> tuple[int, int]:
    """(elements, depth) of the document after ``<use>`` expansion; ``SvgLimitError`` beyond the limits
    ``svg_elements`` / ``svg_depth``, ``SvgInputError`` for a reference cycle."""
    ids = _index(root, name)
    ids.pop("", None)
    size: dict[ET.Element, tuple[int, int]] = {}  # element -> (expanded elements, expanded depth)
    started: set[ET.Element] = set()
    stack: list[tuple[ET.Element, bool]] = [(root, False)]
    while stack:
        el, children_done = stack.pop()
        ref = ids.get(_reference(el))
        deps = [*el, ref] if ref is not None else list(el)
        if children_done:
            count = 1 + sum(size[d][0] for d in deps)
            depth = 1 + max((size[d][1] for d in deps), default=0)
            check_limit(name, "svg_elements", count, "element count after <use> expansion", SvgLimitError)
            check_limit(name, "svg_depth", depth, "nesting depth after <use> expansion", SvgLimitError)
            size[el] = (count, depth)
            started.discard(el)
            continue
        if el in size:
            continue
        started.add(el)
        stack.append((el, True))
        for dep in deps:
            if dep in started:
                raise SvgInputError(f"{name}: <use> reference cycle (through id {dep.get('id')!r})")
            if dep not in size:
                stack.append((dep, False))
    return size[root]
