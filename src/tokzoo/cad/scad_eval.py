"""An OpenSCAD evaluator: statements (:mod:`tokzoo.cad.scad_parse`) → a tree of builtin instantiations.

``parse_scad(text, name)`` gives a :class:`ScadFile` whose nodes name only builtin modules (``cube``,
``translate``, ``difference`` ...), with arguments evaluated to values (``float``, ``bool``, ``str``, ``None``
for ``undef``, ``list`` for vectors, :class:`ScadRange`). What it runs, with OpenSCAD's semantics:

- scopes: a file, a ``{ }`` block, a module call, a loop iteration and a ``let`` each open one; variables are
  lexical, assigned before the scope's instantiations, and a variable assigned twice in one scope takes the
  last value at the place of the first (OpenSCAD's rule); special ``$`` variables are dynamic (a module sees
  its caller's) and ``$children`` counts a module's children;
- ``module`` definitions with default parameters and ``children()``/``children(i)``/``children([i, j])``;
  ``function`` definitions (recursion bounded); ``for`` over vectors, ranges and nested bindings (a group of
  the iterations, as OpenSCAD's implicit union), ``intersection_for``, ``if``/``else``, ``let``, ``assert``;
- expressions: arithmetic on numbers and vectors, comparisons, ``?:``, list comprehensions, ranges, and the
  builtin functions of :mod:`tokzoo.cad.scad_functions`.

A statement that yields several objects becomes one ``group`` node (``intersection`` for ``intersection_for``),
so ``difference() { m(); cube(1); }`` subtracts from all of ``m``'s objects, as OpenSCAD does. The work is
bounded before it grows: every evaluated expression, object and vector element counts against
``scad_steps``, and module/function calls nest at most ``scad_calls`` deep (:mod:`tokzoo.core.limits`).
"""

from __future__ import annotations

import math
import sys
from dataclasses import replace
from typing import Any

from tokzoo.cad.scad_ast import (
    Assignment,
    Definition,
    ForLoop,
    IfElse,
    Instantiation,
    LetBlock,
    Node,
    ScadError,
    ScadFile,
    ScadRange,
    Statement,
    Value,
)
from tokzoo.cad.scad_functions import FUNCTIONS, FunctionArgumentError
from tokzoo.cad.scad_parse import parse_statements
from tokzoo.core.limits import check_limit, get_limits

__all__ = ["Node", "ScadError", "ScadFile", "ScadRange", "parse_scad"]


_SPECIAL_DEFAULTS: dict[str, Value] = {"$fn": 0.0, "$fa": 12.0, "$fs": 2.0, "$t": 0.0, "$preview": False}


class _Scope:
    """Variables, modules and functions of one scope; ``parent`` is lexical, ``caller`` dynamic ($ variables)."""

    def __init__(self, parent: _Scope | None, caller: _Scope | None = None) -> None:
        self.parent, self.caller = parent, caller if caller is not None else parent
        self.vars: dict[str, Value] = {}
        self.modules: dict[str, tuple[Definition, _Scope]] = {}
        self.functions: dict[str, tuple[Definition, _Scope]] = {}
        self.children: tuple[tuple[Statement, ...], _Scope] | None = None

    def lookup(self, table: str, name: str) -> Any:
        scope: _Scope | None = self
        while scope is not None:
            found = getattr(scope, table).get(name)
            if found is not None or (table == "vars" and name in scope.vars):
                return found, True
            scope = scope.caller if name.startswith("$") else scope.parent
        return None, False


class _Interpreter:
    def __init__(self, name: str) -> None:
        self.name, self.steps, self.calls = name, 0, 0
        limits = get_limits()
        self.max_steps, self.max_calls = limits.scad_steps, limits.scad_calls

    def fail(self, line: int, msg: str, reason: str = "expression") -> ScadError:
        return ScadError(self.name, line, msg, reason)

    def charge(self, n: int = 1) -> None:
        self.steps += n
        if self.steps > self.max_steps:
            check_limit(self.name, "scad_steps", self.steps, "evaluation steps")

    # -- scopes and statements -------------------------------------------------------------------------
    def open_scope(self, body: tuple[Statement, ...], parent: _Scope, caller: _Scope | None = None) -> _Scope:
        """A new scope with ``body``'s definitions and assignments (OpenSCAD's order and reassignment rule)."""
        scope = _Scope(parent, caller)
        self.fill(scope, body)
        return scope

    def fill(self, scope: _Scope, body: tuple[Statement, ...]) -> None:
        assigned: dict[str, Assignment] = {}
        for s in body:
            if isinstance(s, Definition):
                table = scope.modules if s.kind == "module" else scope.functions
                table[s.name] = (s, scope)
            elif isinstance(s, Assignment):
                first = assigned.get(s.name)
                assigned[s.name] = s if first is None else replace(first, expr=s.expr)
        for a in assigned.values():
            scope.vars[a.name] = self.value(a.expr, scope)

    def block(self, body: tuple[Statement, ...], scope: _Scope) -> list[Node]:
        """The objects of ``body``'s instantiations, evaluated in ``scope`` (already filled)."""
        out: list[Node] = []
        for s in body:
            if not isinstance(s, (Assignment, Definition)):
                out.extend(self.statement(s, scope))
        return out

    def scoped_block(self, body: tuple[Statement, ...], parent: _Scope) -> list[Node]:
        return self.block(body, self.open_scope(body, parent))

    def statement(self, s: Statement, scope: _Scope) -> list[Node]:
        self.charge()
        if isinstance(s, ForLoop):
            nodes: list[Node] = []
            for iteration in self.iterations(s.bindings, scope):
                nodes.extend(self.scoped_block(s.body, iteration))
            return _group(nodes, s.line, s.modifier, "intersection" if s.intersect else "group")
        if isinstance(s, IfElse):
            branch = s.then if _truth(self.value(s.cond, scope)) else s.orelse
            return _group(self.scoped_block(branch, scope), s.line, s.modifier)
        if isinstance(s, LetBlock):
            inner = self.bind_sequential(s.bindings, scope)
            return _group(self.scoped_block(s.body, inner), s.line, s.modifier)
        assert isinstance(s, Instantiation)
        return self.instantiate(s, scope)

    def iterations(self, bindings, scope: _Scope):
        """A scope per iteration of nested ``for`` bindings (the first binding outermost)."""
        if not bindings:
            yield scope
            return
        (var, expr), rest = bindings[0], bindings[1:]
        for v in self.iterable(self.value(expr, scope)):
            inner = _Scope(scope)
            inner.vars[var] = v
            yield from self.iterations(rest, inner)

    def iterable(self, v: Value) -> list[Value]:
        if isinstance(v, ScadRange):
            self.charge(len(v))
            return v.values()
        if isinstance(v, list):
            return v
        if isinstance(v, str):
            return list(v)
        return [] if v is None else [v]

    def bind_sequential(self, bindings, scope: _Scope) -> _Scope:
        inner = _Scope(scope)
        for var, expr in bindings:
            inner.vars[var] = self.value(expr, inner)
        return inner

    def instantiate(self, s: Instantiation, scope: _Scope) -> list[Node]:
        if s.name == "children":
            return self.children(s, scope)
        if s.name == "assert":
            self.check_assert(s.args, scope, s.line)
            return _group(self.scoped_block(s.children, scope), s.line, s.modifier)
        found, _ = scope.lookup("modules", s.name)
        if found is not None:
            return self.call_module(s, found, scope)
        values = tuple((k, self.value(x, scope)) for k, x in s.args if not (k or "").startswith("$"))
        kids = tuple(self.scoped_block(s.children, scope))
        return [Node(s.name, values, kids, s.line, s.modifier)]

    def call_module(self, s: Instantiation, found: tuple[Definition, _Scope], caller: _Scope) -> list[Node]:
        definition, home = found
        inner = self.bind_call(definition, home, s.args, caller, s.line)
        inner.children = (s.children, caller)
        inner.vars["$children"] = float(sum(1 for c in s.children if _is_object(c)))
        self.enter_call(s.line, f"module {s.name}")
        try:
            self.fill(inner, definition.body)
            nodes = self.block(definition.body, inner)
        finally:
            self.calls -= 1
        return _group(nodes, s.line, s.modifier)

    def children(self, s: Instantiation, scope: _Scope) -> list[Node]:
        owner: _Scope | None = scope
        while owner is not None and owner.children is None:
            owner = owner.parent
        if owner is None or owner.children is None:
            return []
        body, caller = owner.children
        objects = [c for c in body if _is_object(c)]
        picked = objects
        args = [self.value(x, scope) for k, x in s.args if not (k or "").startswith("$")]
        if args:
            wanted = self.iterable(args[0])
            if not all(isinstance(i, float) for i in wanted):
                raise self.fail(s.line, "children() takes a number, a vector or a range of numbers")
            picked = [objects[int(i)] for i in wanted if 0 <= int(i) < len(objects)]
        child_scope = self.open_scope(body, caller)
        nodes: list[Node] = []
        for c in picked:
            nodes.extend(self.statement(c, child_scope))
        return nodes

    def check_assert(self, args, scope: _Scope, line: int) -> None:
        values = [self.value(x, scope) for _, x in args]
        if not values or not _truth(values[0]):
            detail = f": {values[1]}" if len(values) > 1 else ""
            raise self.fail(line, f"assertion failed{detail}", "assertion failed")

    def bind_call(self, d: Definition, home: _Scope, args, caller: _Scope, line: int) -> _Scope:
        """A scope of ``home`` with ``d``'s parameters bound: positional, then named, then defaults."""
        inner = _Scope(home, caller)
        names = [p for p, _ in d.params]
        positional = [x for k, x in args if k is None]
        for p, x in zip(names, positional, strict=False):
            inner.vars[p] = self.value(x, caller)
        for k, x in args:
            if k is not None and (k in names or k.startswith("$")):
                inner.vars[k] = self.value(x, caller)
        for p, default in d.params:
            if p not in inner.vars:
                inner.vars[p] = None if default is None else self.value(default, inner)
        return inner

    def enter_call(self, line: int, what: str) -> None:
        self.calls += 1
        if self.calls > self.max_calls:
            raise self.fail(
                line,
                f"{what}: calls nest deeper than the limit scad_calls={self.max_calls:,} (raise it with "
                "TOKZOO_LIMIT_SCAD_CALLS=N or tokzoo --limit scad_calls=N)",
                "recursion",
            )

    # -- expressions ---------------------------------------------------------------------------------------
    def value(self, e: Any, scope: _Scope) -> Value:
        self.charge()
        kind = e[0]
        if kind == "lit":
            return e[1]
        if kind == "vec":
            out: list[Value] = []
            for item in e[1]:
                self.generate(item, scope, out)
            self.charge(len(out))
            return out
        if kind == "range":
            start, end = self.number(e[1], scope, e[4]), self.number(e[3], scope, e[4])
            if e[2] is None:
                start, end = min(start, end), max(start, end)  # OpenSCAD swaps a reversed [a:b]
                return ScadRange(start, 1.0, end)
            return ScadRange(start, self.number(e[2], scope, e[4]), end)
        if kind == "var":
            return self.variable(e[1], scope, e[2])
        if kind == "?":
            return self.value(e[2], scope) if _truth(self.value(e[1], scope)) else self.value(e[3], scope)
        if kind == "let":
            return self.value(e[2], self.bind_sequential(e[1], scope))
        if kind == "un":
            v = self.value(e[2], scope)
            if e[1] == "!":
                return not _truth(v)
            return self.arith("*", -1.0 if e[1] == "-" else 1.0, v, e[3])
        if kind == "bin":
            return self.binary(e, scope)
        if kind == "idx":
            v, i = self.value(e[1], scope), self.value(e[2], scope)
            if isinstance(v, (list, str)) and isinstance(i, float) and 0 <= i < len(v):
                return v[int(i)]
            return None  # OpenSCAD: undef (out of range, or not indexable)
        return self.call(e, scope)

    def number(self, e: Any, scope: _Scope, line: int) -> float:
        v = self.value(e, scope)
        if not isinstance(v, float) or not math.isfinite(v):
            got = repr(v) if isinstance(v, float) else _kind(v)
            raise self.fail(line, f"a range bound must be a finite number, got {got}")
        return v

    def variable(self, name: str, scope: _Scope, line: int) -> Value:
        if name == "PI":
            return math.pi
        v, found = scope.lookup("vars", name)
        if found:
            return v
        if name in _SPECIAL_DEFAULTS:
            return _SPECIAL_DEFAULTS[name]
        if name.startswith("$"):
            return None
        raise self.fail(line, f"undefined variable {name}", "undefined variable")

    def generate(self, item: Any, scope: _Scope, out: list[Value]) -> None:
        kind = item[0]
        if kind == "gen_for":
            for iteration in self.iterations(item[1], scope):
                self.generate(item[2], iteration, out)
        elif kind == "gen_let":
            self.generate(item[2], self.bind_sequential(item[1], scope), out)
        elif kind == "gen_if":
            branch = item[2] if _truth(self.value(item[1], scope)) else item[3]
            if branch is not None:
                self.generate(branch, scope, out)
        elif kind == "each":
            out.extend(self.iterable(self.value(item[1], scope)))
        else:
            out.append(self.value(item, scope))

    def binary(self, e: Any, scope: _Scope) -> Value:
        op = e[1]
        if op in ("&&", "||"):  # short-circuit, as OpenSCAD
            a = _truth(self.value(e[2], scope))
            if a == (op == "||"):
                return a
            return _truth(self.value(e[3], scope))
        a, b = self.value(e[2], scope), self.value(e[3], scope)
        if op in ("==", "!="):
            return _equal(a, b) == (op == "==")
        if op in ("<", "<=", ">", ">="):
            if not ((_is_num(a) and _is_num(b)) or (isinstance(a, str) and isinstance(b, str))):
                raise self.fail(e[4], f"comparison {op} of non-numbers")
            return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
        return self.arith(op, a, b, e[4])

    def arith(self, op: str, a: Value, b: Value, line: int) -> Value:
        if _is_num(a) and _is_num(b):
            try:
                if op == "+":
                    return a + b
                if op == "-":
                    return a - b
                if op == "*":
                    return a * b
                if op == "/":
                    return a / b
                if op == "%":
                    return math.fmod(a, b)
                return math.pow(a, b)
            except (ZeroDivisionError, ValueError, OverflowError) as err:
                raise self.fail(line, f"arithmetic error in {op} ({err})") from None
        if isinstance(a, list) and isinstance(b, list):
            self.charge(len(a))
            if op in "+-" and len(a) == len(b):
                return [self.arith(op, x, y, line) for x, y in zip(a, b, strict=True)]
            if op == "*":
                return self.product(a, b, line)
        if op == "*" and _is_num(a) and isinstance(b, list):
            self.charge(len(b))
            return [self.arith("*", a, y, line) for y in b]
        if op in "*/" and isinstance(a, list) and _is_num(b):
            self.charge(len(a))
            return [self.arith(op, x, b, line) for x in a]
        raise self.fail(line, f"operator {op} is not supported on {_kind(a)} and {_kind(b)}")

    def product(self, a: list, b: list, line: int) -> Value:
        """Vector dot product, matrix × vector, vector × matrix, matrix × matrix (OpenSCAD's ``*``)."""
        if all(_is_num(x) for x in a) and all(_is_num(y) for y in b) and len(a) == len(b):
            return math.fsum(x * y for x, y in zip(a, b, strict=True))
        if all(isinstance(r, list) for r in b) and all(_is_num(x) for x in a):  # vector x matrix
            cols = list(zip(*b, strict=False)) if b else []
            if len(b) == len(a):
                return [self.product(a, list(c), line) for c in cols]
        if all(isinstance(r, list) for r in a):
            self.charge(len(a) * max(1, len(b)))
            return [self.product(r, b, line) for r in a]
        raise self.fail(line, "operator * is not supported on vectors of these shapes")

    def call(self, e: Any, scope: _Scope) -> Value:
        _, fname, args, line = e
        found, _ = scope.lookup("functions", fname)
        if found is not None:
            definition, home = found
            inner = self.bind_call(definition, home, args, scope, line)
            self.enter_call(line, f"function {fname}()")
            try:
                return self.value(definition.body, inner)
            finally:
                self.calls -= 1
        if fname not in FUNCTIONS:
            raise self.fail(line, f"function call {fname}() is not supported", "function call")
        if any(k is not None for k, _ in args):
            raise self.fail(line, f"{fname}() takes positional arguments")
        values = [self.value(x, scope) for _, x in args]
        try:
            return FUNCTIONS[fname](self.charge, values)
        except FunctionArgumentError as err:
            raise self.fail(line, f"{fname}(): {err}") from None
        except (ValueError, OverflowError, ZeroDivisionError) as err:
            raise self.fail(line, f"{fname}() failed ({err})") from None


def _group(nodes: list[Node], line: int, modifier: str, name: str = "group") -> list[Node]:
    """One object for a statement: a lone node keeps itself (with the modifier), several become a group."""
    if not nodes:
        return []
    if len(nodes) == 1 and name == "group":
        return [replace(nodes[0], modifier=modifier + nodes[0].modifier)] if modifier else nodes
    return [Node(name, (), tuple(nodes), line, modifier)]


def _equal(a: Value, b: Value) -> bool:
    """OpenSCAD's ``==``: values of different types are unequal (``1 == true`` is false), vectors by element."""
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _is_object(s: Statement) -> bool:
    return not isinstance(s, (Assignment, Definition))


def _truth(v: Value) -> bool:
    if isinstance(v, float):
        return v != 0.0
    if isinstance(v, ScadRange):
        return True
    return bool(v)


def _is_num(v: Value) -> bool:
    return isinstance(v, float)


def _kind(v: Value) -> str:
    names = {float: "number", bool: "boolean", str: "string", list: "vector", ScadRange: "range"}
    return names.get(type(v), "undef")


def parse_scad(text: str, name: str = "<scad>") -> ScadFile:
    """The objects of OpenSCAD ``text`` as builtin instantiations with evaluated arguments.

    ScadError/LimitError (one line, naming the file and line) on what the subset refuses or the limits bound."""
    statements = parse_statements(text, name)
    interpreter = _Interpreter(name)
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 40 * interpreter.max_calls + 2000))
    try:
        root = interpreter.open_scope(statements, None)
        nodes = interpreter.block(statements, root)
    except RecursionError:
        raise ScadError(name, 0, "expressions nest too deeply to evaluate", "recursion") from None
    finally:
        sys.setrecursionlimit(old)
    variables = {k: v for k, v in root.vars.items() if not k.startswith("$")}
    return ScadFile(name, variables, tuple(nodes))
