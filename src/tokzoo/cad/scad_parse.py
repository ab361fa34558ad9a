"""A parser for a bounded subset of OpenSCAD: module instantiations with arguments and children, top-level
variable assignments, and expressions over numbers, booleans and vectors.

``parse_scad(text, name)`` gives a :class:`ScadFile`: its statements as :class:`Node` trees whose arguments are
already evaluated to values (``float``, ``bool``, ``str``, ``None`` for ``undef``, ``list`` for vectors).
Top-level assignments are evaluated first, in file order (OpenSCAD hoists them); special variables (``$fn``,
``$fa``, ``$fs`` ...) as assignments or arguments are ignored. Expressions: ``+ - * / % ^``, comparisons,
``&& || !``, ``?:``, vectors and indexing, ``PI``, and ``sin cos tan sqrt abs min max pow``. What a program may
do beyond that (``module``/``function`` definitions, ``include``/``use``, ``if``/``for``/``let``, ranges,
other function calls, assignments inside blocks) is a one-line :class:`ScadError` naming the file, the line and
the construct. The input is bounded before the work: ``scad_bytes`` before lexing, ``scad_nodes`` (tokens)
before parsing, ``scad_depth`` (nesting) while parsing (:mod:`tokzoo.core.limits`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from tokzoo.core.errors import DataError
from tokzoo.core.limits import check_limit

__all__ = ["Node", "ScadError", "ScadFile", "parse_scad"]

Value = float | bool | str | list | None

_TOKEN = re.compile(
    r"(?P<ws>[ \t\r\n]+)|(?P<comment>//[^\n]*|/\*.*?\*/)"
    r"|(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<id>\$?[A-Za-z_][A-Za-z0-9_]*)"
    r'|(?P<str>"(?:[^"\\\n]|\\.)*")'
    r"|(?P<op><=|>=|==|!=|&&|\|\||[-+*/%^<>!?:=,;()\[\]{}#.])",
    re.S,
)
_KEYWORD_STATEMENTS = {
    "module": "module definition",
    "function": "function definition",
    "include": "include",
    "use": "use",
    "if": "if statement",
    "else": "if statement",
    "for": "for loop",
    "intersection_for": "intersection_for loop",
    "let": "let",
    "each": "each",
    "assert": "assert",
}
_BINARY = {  # operator: (precedence, right-associative)
    "||": (1, False), "&&": (2, False), "==": (3, False), "!=": (3, False),
    "<": (4, False), "<=": (4, False), ">": (4, False), ">=": (4, False),
    "+": (5, False), "-": (5, False), "*": (6, False), "/": (6, False), "%": (6, False), "^": (8, True),
}  # fmt: skip
_UNARY_PRECEDENCE = 7
_FUNCTIONS = {"sin", "cos", "tan", "sqrt", "abs", "min", "max", "pow"}


class ScadError(DataError):
    """An OpenSCAD program outside the supported subset, or wrong: ``<file>:<line>: <what>``.

    ``reason`` is a short key for counting refusals (``"sphere"``, ``"for loop"``, ``"syntax"`` ...)."""

    def __init__(self, name: str, line: int, message: str, reason: str) -> None:
        super().__init__(f"{name}:{line}: {message}")
        self.line, self.reason = line, reason


@dataclass(frozen=True)
class Node:
    """A module instantiation: ``name(args) children``, with its modifiers (of ``#%*!``; '' when none)."""

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
    """A parsed program: its name, the top-level variables and the top-level statements."""

    name: str
    variables: dict[str, Value] = field(default_factory=dict)
    nodes: tuple[Node, ...] = ()


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    line: int


def _lex(text: str, name: str) -> list[_Tok]:
    out, pos, line = [], 0, 1
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            if text.startswith("/*", pos):
                raise ScadError(name, line, "unterminated /* comment", "syntax")
            raise ScadError(name, line, f"unexpected character {text[pos]!r}", "syntax")
        kind = m.lastgroup or ""
        if kind not in ("ws", "comment"):
            out.append(_Tok(kind, m.group(), line))
        line += m.group().count("\n")
        pos = m.end()
    out.append(_Tok("end", "", line))
    return out


class _Parser:
    def __init__(self, toks: list[_Tok], name: str) -> None:
        self.toks, self.i, self.name, self.depth = toks, 0, name, 0

    # -- helpers ----------------------------------------------------------------------------------------
    def peek(self, k: int = 0) -> _Tok:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def take(self) -> _Tok:
        t = self.peek()
        self.i += 1
        return t

    def error(self, msg: str, reason: str = "syntax", line: int | None = None) -> ScadError:
        return ScadError(self.name, self.peek().line if line is None else line, msg, reason)

    def expect(self, text: str) -> _Tok:
        t = self.peek()
        if t.text != text or t.kind not in ("op",):
            got = "end of file" if t.kind == "end" else repr(t.text)
            raise self.error(f"expected {text!r}, got {got}")
        return self.take()

    def enter(self) -> None:
        self.depth += 1
        check_limit(self.name, "scad_depth", self.depth, "nesting depth")

    # -- statements -------------------------------------------------------------------------------------
    def program(self) -> tuple[list[tuple[str, Any, int]], list]:
        assignments, nodes = [], []
        while self.peek().kind != "end":
            t = self.peek()
            if t.kind == "id" and self.peek(1).text == "=" and t.text not in _KEYWORD_STATEMENTS:
                self.take(), self.take()
                value = self.expr()
                self.expect(";")
                assignments.append((t.text, value, t.line))
            else:
                nodes.extend(self.statement())
        return assignments, nodes

    def statement(self) -> list:
        """Raw nodes ``(name, args, children, line, modifier)`` of one statement (a block gives several)."""
        self.enter()
        t = self.peek()
        try:
            if t.text == ";" and t.kind == "op":
                self.take()
                return []
            if t.text == "{" and t.kind == "op":
                self.take()
                out = []
                while not (self.peek().kind == "op" and self.peek().text == "}"):
                    if self.peek().kind == "end":
                        raise self.error("unterminated { block")
                    if self.peek().kind == "id" and self.peek(1).text == "=":
                        raise self.error("assignment inside a block", "assignment inside a block")
                    out.extend(self.statement())
                self.take()
                return out
            modifier = ""
            while t.kind == "op" and t.text in "#%*!":
                modifier += self.take().text
                t = self.peek()
            if t.kind != "id":
                raise self.error(f"expected a module instantiation, got {t.text or 'end of file'!r}")
            if t.text in _KEYWORD_STATEMENTS:
                what = _KEYWORD_STATEMENTS[t.text]
                raise self.error(f"{what} is not supported", what)
            self.take()
            self.expect("(")
            args = self.arguments(")")
            children = self.statement()
            return [(t.text, args, children, t.line, modifier)]
        finally:
            self.depth -= 1

    def arguments(self, close: str) -> list[tuple[str | None, Any]]:
        args = []
        while not (self.peek().kind == "op" and self.peek().text == close):
            key = None
            if self.peek().kind == "id" and self.peek(1).text == "=" and self.peek(1).kind == "op":
                key = self.take().text
                self.take()
            args.append((key, self.expr()))
            if self.peek().text == "," and self.peek().kind == "op":
                self.take()
            elif not (self.peek().kind == "op" and self.peek().text == close):
                raise self.error(f"expected ',' or {close!r} in an argument list")
        self.take()
        return args

    # -- expressions (precedence climbing) -----------------------------------------------------------------
    def expr(self, min_prec: int = 0) -> Any:
        self.enter()
        try:
            left = self.unary()
            while True:
                t = self.peek()
                if t.kind == "op" and t.text == "?" and min_prec == 0:
                    self.take()
                    a = self.expr()
                    self.expect(":")
                    b = self.expr()
                    left = ("?", left, a, b, t.line)
                    continue
                if t.kind != "op" or t.text not in _BINARY:
                    return left
                prec, right = _BINARY[t.text]
                if prec < min_prec or prec == 0:
                    return left
                self.take()
                left = ("bin", t.text, left, self.expr(prec if right else prec + 1), t.line)
        finally:
            self.depth -= 1

    def unary(self) -> Any:
        t = self.peek()
        if t.kind == "op" and t.text in ("-", "+", "!"):
            self.take()
            return ("un", t.text, self.expr(_UNARY_PRECEDENCE), t.line)
        return self.postfix(self.primary())

    def postfix(self, e: Any) -> Any:
        while self.peek().kind == "op" and self.peek().text in ("[", "."):
            t = self.take()
            if t.text == ".":
                raise self.error("member access (.x) is not supported", "member access", t.line)
            index = self.expr()
            self.expect("]")
            e = ("idx", e, index, t.line)
        return e

    def primary(self) -> Any:
        t = self.take()
        if t.kind == "num":
            return ("lit", float(t.text))
        if t.kind == "str":
            return ("lit", t.text[1:-1])
        if t.kind == "id":
            if t.text in ("true", "false"):
                return ("lit", t.text == "true")
            if t.text == "undef":
                return ("lit", None)
            if t.text in ("let", "each", "function", "assert"):
                raise self.error(f"{t.text} expression is not supported", f"{t.text} expression", t.line)
            if self.peek().kind == "op" and self.peek().text == "(":
                self.take()
                return ("call", t.text, self.arguments(")"), t.line)
            return ("var", t.text, t.line)
        if t.kind == "op" and t.text == "(":
            e = self.expr()
            self.expect(")")
            return e
        if t.kind == "op" and t.text == "[":
            items = []
            while not (self.peek().kind == "op" and self.peek().text == "]"):
                if self.peek().kind == "id" and self.peek().text in ("for", "each", "if", "let"):
                    raise self.error("list comprehension is not supported", "list comprehension")
                items.append(self.expr())
                if self.peek().kind == "op" and self.peek().text == ":":
                    raise self.error("range expression is not supported", "range")
                if self.peek().kind == "op" and self.peek().text == ",":
                    self.take()
                elif not (self.peek().kind == "op" and self.peek().text == "]"):
                    raise self.error("expected ',' or ']' in a vector")
            self.take()
            return ("vec", items)
        got = "end of file" if t.kind == "end" else repr(t.text)
        raise ScadError(self.name, t.line, f"expected an expression, got {got}", "syntax")


class _Evaluator:
    def __init__(self, name: str, variables: dict[str, Value]) -> None:
        self.name, self.vars = name, variables

    def fail(self, line: int, msg: str, reason: str = "expression") -> ScadError:
        return ScadError(self.name, line, msg, reason)

    def __call__(self, e: Any) -> Value:
        kind = e[0]
        if kind == "lit":
            return e[1]
        if kind == "vec":
            return [self(x) for x in e[1]]
        if kind == "var":
            if e[1] == "PI":
                return math.pi
            if e[1].startswith("$"):
                raise self.fail(e[2], f"special variable {e[1]} in an expression", "special variable")
            if e[1] not in self.vars:
                raise self.fail(e[2], f"undefined variable {e[1]}", "undefined variable")
            return self.vars[e[1]]
        if kind == "?":
            return self(e[2]) if self._truth(self(e[1])) else self(e[3])
        if kind == "un":
            v = self(e[2])
            if e[1] == "!":
                return not self._truth(v)
            return self._arith("*", -1.0 if e[1] == "-" else 1.0, v, e[3])
        if kind == "bin":
            a, b = self(e[2]), self(e[3])
            op = e[1]
            if op in ("&&", "||"):
                return (
                    (self._truth(a) and self._truth(b)) if op == "&&" else (self._truth(a) or self._truth(b))
                )
            if op in ("==", "!="):
                return (a == b) == (op == "==")
            if op in ("<", "<=", ">", ">="):
                if not (_is_num(a) and _is_num(b)):
                    raise self.fail(e[4], f"comparison {op} of non-numbers")
                return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
            return self._arith(op, a, b, e[4])
        if kind == "idx":
            v, i = self(e[1]), self(e[2])
            if not isinstance(v, list) or not _is_num(i) or not 0 <= i < len(v):
                raise self.fail(e[3], "index out of range or not a vector")
            return v[int(i)]
        return self._call(e)

    @staticmethod
    def _truth(v: Value) -> bool:
        return bool(v) if not isinstance(v, float) else v != 0.0

    def _arith(self, op: str, a: Value, b: Value, line: int) -> Value:
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
        if isinstance(a, list) and isinstance(b, list) and op in "+-" and len(a) == len(b):
            return [self._arith(op, x, y, line) for x, y in zip(a, b, strict=True)]
        if op == "*" and _is_num(a) and isinstance(b, list):
            return [self._arith("*", a, y, line) for y in b]
        if op in "*/" and isinstance(a, list) and _is_num(b):
            return [self._arith(op, x, b, line) for x in a]
        raise self.fail(line, f"operator {op} is not supported on {_kind(a)} and {_kind(b)}")

    def _call(self, e: Any) -> Value:
        _, fname, args, line = e
        if fname not in _FUNCTIONS:
            raise self.fail(line, f"function call {fname}() is not supported", "function call")
        values = [self(x) for k, x in args]
        if any(k is not None for k, _ in args) or not values or not all(_is_num(v) for v in values):
            raise self.fail(line, f"{fname}() takes numbers as positional arguments")
        try:
            if fname in ("min", "max"):
                return (min if fname == "min" else max)(values)
            if fname == "pow" and len(values) == 2:
                return math.pow(*values)
            if len(values) != 1:
                raise self.fail(line, f"{fname}() takes one argument")
            x = values[0]
            if fname in ("sin", "cos", "tan"):
                return getattr(math, fname)(math.radians(x))
            return math.sqrt(x) if fname == "sqrt" else abs(x)
        except (ValueError, OverflowError) as err:
            raise self.fail(line, f"{fname}() failed ({err})") from None


def _is_num(v: Value) -> bool:
    return isinstance(v, float)


def _kind(v: Value) -> str:
    return {float: "number", bool: "boolean", str: "string", list: "vector"}.get(type(v), "undef")


def parse_scad(text: str, name: str = "<scad>") -> ScadFile:
    """The statements of OpenSCAD ``text`` with evaluated arguments; ScadError/LimitError (one line)."""
    check_limit(name, "scad_bytes", len(text.encode("utf-8", "surrogatepass")), "file size in bytes")
    toks = _lex(text, name)
    check_limit(name, "scad_nodes", len(toks) - 1, "syntax tokens")
    parser = _Parser(toks, name)
    assignments, raw = parser.program()
    variables: dict[str, Value] = {}
    evaluate = _Evaluator(name, variables)
    for var, expr, line in assignments:
        if var.startswith("$"):
            continue
        if var in variables:
            raise ScadError(name, line, f"variable {var} is assigned twice", "reassignment")
        variables[var] = evaluate(expr)

    def resolve(r: tuple) -> Node:
        node_name, args, children, line, modifier = r
        values = tuple((k, evaluate(x)) for k, x in args if not (k or "").startswith("$"))
        return Node(node_name, values, tuple(resolve(c) for c in children), line, modifier)

    return ScadFile(name, variables, tuple(resolve(r) for r in raw))
