"""Brace expansion of shard patterns, e.g. ``shard-{000000..000009}.tar`` or ``{train,val}.tar``."""

from __future__ import annotations

import re

from tokzoo.core.errors import DataError

_RANGE = re.compile(r"^(\d+)\.\.(\d+)$")


def expand_braces(pattern: str) -> list[str]:
    """Expand every ``{a..b}`` (zero-padded to the width of ``a``) and ``{x,y,z}`` group, left to right."""
    start = pattern.find("{")
    if start < 0:
        if "}" in pattern:
            raise DataError(f"{pattern}: unbalanced '}}' in shard pattern")
        return [pattern]
    end = pattern.find("}", start)
    if end < 0 or "{" in pattern[start + 1 : end] or "}" in pattern[:start]:
        raise DataError(f"{pattern}: unbalanced or nested '{{' in shard pattern")
    body, head, tail = pattern[start + 1 : end], pattern[:start], expand_braces(pattern[end + 1 :])
    match = _RANGE.match(body)
    if match:
        a, b = match.groups()
        if int(a) > int(b):
            raise DataError(f"{pattern}: empty range {{{body}}} in shard pattern")
        choices = [str(i).zfill(len(a)) for i in range(int(a), int(b) + 1)]
    else:
        choices = body.split(",")
    return [head + c + t for c in choices for t in tail]
