"""The types of the OpenSCAD pipeline: the statements :mod:`tokzoo.cad.scad_parse` gives (expressions inside stay
unevaluated tuples such as ``("bin", "+", a, b, line)``), the values and objects :mod:`tokzoo.cad.scad_eval`
gives (:class:`ScadRange`, :class:`Node`, :class:`ScadFile`), and :class:`ScadError`, its one-line error."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from tokzoo.core.errors import DataError

__all__ = [
    "Assignment",
    "Bindings",
    "Definition",
    "ForLoop",
    "IfElse",
    "Instantiation",
    "LetBlock",
    "Node",
    "ScadError",
    "ScadFile",
    "ScadRange",
    "Statement",
    "Value",
]


class ScadError(DataError):
    """An OpenSCAD program outside the supported subset, or wrong: ``<file>:<line>: <what>``.

    ``reason`` is a short key for counting refusals (``"sphere"``, ``"include"``, ``"syntax"`` ...)."""

    def __init__(self, name: str, line: int, message: str, reason: str) -> None:
        super().__init__(f"{name}:{line}: {message}")
        self.line, self.reason = line, reason


Bindings = tuple[tuple[str | None, Any], ...]


@dataclass(frozen=True)
class Instantiation:
    """``name(args) children`` with its modifiers (of ``#%*!``; '' when none); args are ``(key, expr)``."""

    name: str
    args: Bindings
    children: tuple[Statement, ...]
    line: int
    modifier: str = ""


@dataclass(frozen=True)
class Assignment:
    """``name = expr;``"""

    name: str
    expr: Any
    line: int


@dataclass(frozen=True)
class Definition:
    """``module name(params) body`` (body: statements) or ``function name(params) = body;`` (an expression)."""

    kind: str
    name: str
    params: Bindings  # (name, default expression or None)
    body: Any
    line: int


@dataclass(frozen=True)
class ForLoop:
    """``for (v = e, ...) body``; ``intersect`` for ``intersection_for``."""

    bindings: Bindings
    body: tuple[Statement, ...]
    line: int
    modifier: str = ""
    intersect: bool = False


@dataclass(frozen=True)
class IfElse:
    """``if (cond) then else orelse``."""

    cond: Any
    then: tuple[Statement, ...]
    orelse: tuple[Statement, ...]
    line: int
    modifier: str = ""


@dataclass(frozen=True)
class LetBlock:
    """``let (v = e, ...) body``: sequential bindings in a new scope."""

    bindings: Bindings
    body: tuple[Statement, ...]
    line: int
    modifier: str = ""


Statement = Instantiation | Assignment | Definition | ForLoop | IfElse | LetBlock


@dataclass(frozen=True)
class ScadRange:
    """``[start : step : end]``; iterating it gives ``start, start + step, ...`` up to ``end``."""

    start: float
    step: float
    end: float

    def __len__(self) -> int:
        if self.step == 0 or (self.end - self.start) * self.step < 0:
            return 0
        n = (self.end - self.start) / self.step + 1e-9
        return math.floor(n) + 1 if n < 2**62 else 2**62  # a step too small to count: more than any limit

    def values(self) -> list[float]:
        return [self.start + i * self.step for i in range(len(self))]


Value = float | bool | str | list | ScadRange | None


@dataclass(frozen=True)
class Node:
    """A builtin module instantiation: ``name(args) children``, with its modifiers (of ``#%*!``; '' when none)."""

    name: str
    args: tuple[tuple[str | None, Any], ...]
    children: tuple[Node, ...]
    line: int
    modifier: str = ""

    def arg_dict(self) -> dict[str | None, Any]:
        """Named arguments by name; positional ones under ``None`` as a list."""
        out: dict[str | None, Any] = {None: [v for k, v in self.args if k is None]}
        out.update((k, v) for k, v in self.args if k is not None)
        return out


@dataclass(frozen=True)
class ScadFile:
    """An evaluated program: its name, the top-level variables and the top-level objects."""

    name: str
    variables: dict[str, Value] = field(default_factory=dict)
    nodes: tuple[Node, ...] = ()
