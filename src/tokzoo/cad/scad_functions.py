"""OpenSCAD's builtin functions for :mod:`tokzoo.cad.scad_eval`: trigonometry in degrees, rounding, ``len``,
``concat``, ``norm``, ``cross``, ``lookup``, ``str`` and the type tests, with OpenSCAD's meaning.

Each takes ``(charge, positional values)``; ``charge(n)`` counts ``n`` evaluation steps against the
``scad_steps`` limit before a long vector or string is built. Wrong arguments raise
:class:`FunctionArgumentError`, which the evaluator reports as a one-line ``ScadError``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

__all__ = ["FUNCTIONS", "FunctionArgumentError"]

Charge = Callable[[int], None]


def _is_num(v: Any) -> bool:
    return isinstance(v, float)


class FunctionArgumentError(Exception):
    """A builtin function called with the wrong arguments."""


def _nums(values: list[Any], n: int | None = None) -> list[float]:
    if (n is not None and len(values) != n) or not all(_is_num(v) for v in values):
        raise FunctionArgumentError(f"expected {n if n is not None else 'some'} number(s)")
    return values  # type: ignore[return-value]


def _one(math_fn):
    return lambda charge, v: math_fn(*_nums(v, 1))


def _minmax(fn):
    def call(it, v: list[Any]) -> float:
        if len(v) == 1 and isinstance(v[0], list):
            v = v[0]
        if not v:
            raise FunctionArgumentError("expected numbers or a vector of numbers")
        return fn(_nums(v))

    return call


def _concat(charge: Charge, v: list[Any]) -> list:
    out: list = []
    for x in v:
        out.extend(x if isinstance(x, list) else [x])
    charge(len(out))
    return out


def _norm(charge: Charge, v: list[Any]) -> float:
    if len(v) != 1 or not isinstance(v[0], list):
        raise FunctionArgumentError("expected a vector")
    return math.sqrt(math.fsum(x * x for x in _nums(v[0])))


def _cross(charge: Charge, v: list[Any]) -> list[float]:
    if len(v) != 2 or not all(isinstance(x, list) and len(x) == 3 for x in v):
        raise FunctionArgumentError("expected two 3-vectors")
    (a1, a2, a3), (b1, b2, b3) = _nums(v[0]), _nums(v[1])
    return [a2 * b3 - a3 * b2, a3 * b1 - a1 * b3, a1 * b2 - a2 * b1]


def _lookup(charge: Charge, v: list[Any]) -> float | None:
    """Linear interpolation in a table of ``[key, value]`` rows (clamped at both ends)."""
    if len(v) != 2 or not _is_num(v[0]) or not isinstance(v[1], list):
        raise FunctionArgumentError("expected a key and a table of [key, value]")
    rows = sorted((r[0], r[1]) for r in v[1] if isinstance(r, list) and len(r) >= 2 and _is_num(r[0]))
    if not rows:
        return None
    x = v[0]
    if x <= rows[0][0]:
        return rows[0][1]
    for (x0, y0), (x1, y1) in itertools.pairwise(rows):
        if x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0) if x1 != x0 else y1
    return rows[-1][1]


def _str(charge: Charge, v: list[Any]) -> str:
    def text(x: Any) -> str:
        if isinstance(x, str):
            return x
        if isinstance(x, bool):
            return "true" if x else "false"
        if isinstance(x, float):
            return str(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(x)
        if isinstance(x, list):
            return "[" + ", ".join(text(y) if not isinstance(y, str) else f'"{y}"' for y in x) + "]"
        return "undef"

    out = "".join(text(x) for x in v)
    charge(len(out))
    return out


def _round(x: float) -> float:
    return float(math.floor(x + 0.5) if x >= 0 else -math.floor(-x + 0.5))


def _len(charge: Charge, v: list[Any]) -> float | None:
    if len(v) != 1:
        raise FunctionArgumentError("expected one argument")
    return float(len(v[0])) if isinstance(v[0], (list, str)) else None


def _deg(fn):
    return lambda charge, v: math.degrees(fn(*_nums(v, 1)))


#: Builtin functions: name → ``(interpreter, positional values) -> value`` (angles in degrees, as OpenSCAD).
FUNCTIONS = {
    "sin": _one(lambda x: math.sin(math.radians(x))),
    "cos": _one(lambda x: math.cos(math.radians(x))),
    "tan": _one(lambda x: math.tan(math.radians(x))),
    "asin": _deg(math.asin),
    "acos": _deg(math.acos),
    "atan": _deg(math.atan),
    "atan2": lambda charge, v: math.degrees(math.atan2(*_nums(v, 2))),
    "sqrt": _one(math.sqrt),
    "abs": _one(abs),
    "floor": _one(lambda x: float(math.floor(x))),
    "ceil": _one(lambda x: float(math.ceil(x))),
    "round": _one(_round),
    "sign": _one(lambda x: float((x > 0) - (x < 0))),
    "exp": _one(math.exp),
    "ln": _one(math.log),
    "log": lambda charge, v: math.log10(_nums(v, 1)[0]) if len(v) == 1 else math.log(_nums(v, 2)[1], v[0]),
    "pow": lambda charge, v: math.pow(*_nums(v, 2)),
    "min": _minmax(min),
    "max": _minmax(max),
    "norm": _norm,
    "cross": _cross,
    "len": _len,
    "concat": _concat,
    "lookup": _lookup,
    "str": _str,
    "is_undef": lambda charge, v: len(v) == 1 and v[0] is None,
    "is_num": lambda charge, v: len(v) == 1 and _is_num(v[0]) and math.isfinite(v[0]),
    "is_bool": lambda charge, v: len(v) == 1 and isinstance(v[0], bool),
    "is_string": lambda charge, v: len(v) == 1 and isinstance(v[0], str),
    "is_list": lambda charge, v: len(v) == 1 and isinstance(v[0], list),
}
