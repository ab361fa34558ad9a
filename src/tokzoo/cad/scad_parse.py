"""The syntax of OpenSCAD: a bounded parser from program text to statements whose expressions are unevaluated.

``parse_statements(text, name)`` gives the top-level statements: module instantiations (with arguments,
modifiers ``#%*!`` and children), assignments, ``module``/``function`` definitions, ``for``/``intersection_for``
loops, ``if``/``else``, ``let`` and ``assert`` blocks. Expressions are tuples (``("bin", "+", a, b, line)`` ...):
numbers, strings, booleans, ``undef``, vectors with list-comprehension generators (``for``, ``if``/``else``,
``let``, ``each``), ranges ``[a:b]``/``[a:s:b]``, ``?:``, ``let`` expressions, indexing and ``.x .y .z``, calls.
What it refuses is a one-line :class:`ScadError` naming the file, the line and the construct (:mod:`tokzoo.cad.scad_ast` holds the statement types): ``include``/``use``
of other files, function literals, ``assert``/``echo`` inside expressions. The input
is bounded before the work: ``scad_bytes`` before lexing, ``scad_nodes`` (tokens) before parsing, ``scad_depth``
(nesting) while parsing (:mod:`tokzoo.core.limits`). :mod:`tokzoo.cad.scad_eval` runs the statements.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tokzoo.cad.scad_ast import (
    Assignment,
    Bindings,
    Definition,
    ForLoop,
    IfElse,
    Instantiation,
    LetBlock,
    ScadError,
    Statement,
)
from tokzoo.core.limits import check_limit

__all__ = ["parse_statements"]

_TOKEN = re.compile(
    r"(?P<ws>[ \t\r\n]+)|(?P<comment>//[^\n]*|/\*.*?\*/)"
    r"|(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<id>\$?[A-Za-z_][A-Za-z0-9_]*)"
    r'|(?P<str>"(?:[^"\\\n]|\\.)*")'
    r"|(?P<op><=|>=|==|!=|&&|\|\||[-+*/%^<>!?:=,;()\[\]{}#.])",
    re.S,
)
_REFUSED_STATEMENTS = {"include": "include", "use": "use", "each": "each statement"}
_BINARY = {  # operator: (precedence, right-associative)
    "||": (1, False), "&&": (2, False), "==": (3, False), "!=": (3, False),
    "<": (4, False), "<=": (4, False), ">": (4, False), ">=": (4, False),
    "+": (5, False), "-": (5, False), "*": (6, False), "/": (6, False), "%": (6, False), "^": (8, True),
}  # fmt: skip
_UNARY_PRECEDENCE = 7
_MEMBERS = {"x": 0.0, "y": 1.0, "z": 2.0}


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

    def at(self, text: str, k: int = 0) -> bool:
        t = self.peek(k)
        return t.kind == "op" and t.text == text

    def at_word(self, text: str) -> bool:
        return self.peek().kind == "id" and self.peek().text == text

    def error(self, msg: str, reason: str = "syntax", line: int | None = None) -> ScadError:
        return ScadError(self.name, self.peek().line if line is None else line, msg, reason)

    def expect(self, text: str) -> _Tok:
        if not self.at(text):
            t = self.peek()
            got = "end of file" if t.kind == "end" else repr(t.text)
            raise self.error(f"expected {text!r}, got {got}")
        return self.take()

    def identifier(self, what: str) -> _Tok:
        if self.peek().kind != "id":
            raise self.error(f"expected {what}, got {self.peek().text or 'end of file'!r}")
        return self.take()

    def enter(self) -> None:
        self.depth += 1
        check_limit(self.name, "scad_depth", self.depth, "nesting depth")

    # -- statements -------------------------------------------------------------------------------------
    def program(self) -> tuple[Statement, ...]:
        out: list[Statement] = []
        while self.peek().kind != "end":
            out.extend(self.statement())
        return tuple(out)

    def statement(self) -> tuple[Statement, ...]:
        """One statement; a ``{ }`` block gives its statements (the caller scopes them)."""
        self.enter()
        try:
            return self._statement()
        finally:
            self.depth -= 1

    def _statement(self) -> tuple[Statement, ...]:
        t = self.peek()
        if self.at(";"):
            self.take()
            return ()
        if self.at("{"):
            self.take()
            out: list[Statement] = []
            while not self.at("}"):
                if self.peek().kind == "end":
                    raise self.error("unterminated { block")
                out.extend(self.statement())
            self.take()
            return tuple(out)
        if t.kind == "id" and self.at("=", 1):
            self.take(), self.take()
            value = self.expr()
            self.expect(";")
            return (Assignment(t.text, value, t.line),)
        if t.kind == "id" and t.text in ("module", "function"):
            return (self.definition(),)
        modifier = ""
        while t.kind == "op" and t.text in "#%*!":
            modifier += self.take().text
            t = self.peek()
        if t.kind != "id":
            raise self.error(f"expected a module instantiation, got {t.text or 'end of file'!r}")
        if t.text in _REFUSED_STATEMENTS:
            what = _REFUSED_STATEMENTS[t.text]
            raise self.error(f"{what} is not supported (other files are not read)", what)
        self.take()
        if t.text == "else":
            raise self.error("else without if")
        if t.text in ("for", "intersection_for", "let"):
            self.expect("(")
            bindings = self.bindings()
            body = self.statement()
            if t.text == "let":
                return (LetBlock(bindings, body, t.line, modifier),)
            return (ForLoop(bindings, body, t.line, modifier, t.text == "intersection_for"),)
        if t.text == "if":
            self.expect("(")
            cond = self.expr()
            self.expect(")")
            then = self.statement()
            orelse: tuple[Statement, ...] = ()
            if self.at_word("else"):
                self.take()
                orelse = self.statement()
            return (IfElse(cond, then, orelse, t.line, modifier),)
        self.expect("(")
        args = self.arguments(")")
        children = self.statement()
        return (Instantiation(t.text, args, children, t.line, modifier),)

    def definition(self) -> Definition:
        kind = self.take()
        name = self.identifier(f"a {kind.text} name")
        self.expect("(")
        params = []
        while not self.at(")"):
            p = self.identifier("a parameter name")
            default = None
            if self.at("="):
                self.take()
                default = self.expr()
            params.append((p.text, default))
            if self.at(","):
                self.take()
            elif not self.at(")"):
                raise self.error("expected ',' or ')' in a parameter list")
        self.take()
        if kind.text == "module":
            return Definition("module", name.text, tuple(params), self.statement(), kind.line)
        self.expect("=")
        body = self.expr()
        self.expect(";")
        return Definition("function", name.text, tuple(params), body, kind.line)

    def bindings(self) -> Bindings:
        """``v = e, ...)`` of a ``for``/``let``: every one named."""
        line = self.peek().line
        out = self.arguments(")")
        if any(k is None for k, _ in out):
            raise self.error("expected name = value in a for/let binding", line=line)
        return out

    def arguments(self, close: str) -> Bindings:
        args = []
        while not self.at(close):
            key = None
            if self.peek().kind == "id" and self.at("=", 1):
                key = self.take().text
                self.take()
            args.append((key, self.expr()))
            if self.at(","):
                self.take()
            elif not self.at(close):
                raise self.error(f"expected ',' or {close!r} in an argument list")
        self.take()
        return tuple(args)

    # -- expressions (precedence climbing) -----------------------------------------------------------------
    def expr(self, min_prec: int = 0) -> Any:
        self.enter()
        try:
            left = self.unary()
            while True:
                t = self.peek()
                if self.at("?") and min_prec == 0:
                    self.take()
                    a = self.expr()
                    self.expect(":")
                    b = self.expr()
                    left = ("?", left, a, b, t.line)
                    continue
                if t.kind != "op" or t.text not in _BINARY:
                    return left
                prec, right = _BINARY[t.text]
                if prec < min_prec:
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
        if self.at_word("let") and self.at("(", 1):
            self.take(), self.take()
            bindings = self.bindings()
            return ("let", bindings, self.expr(), t.line)
        return self.postfix(self.primary())

    def postfix(self, e: Any) -> Any:
        while self.at("[") or self.at("."):
            t = self.take()
            if t.text == ".":
                member = self.identifier("a member name after '.'")
                if member.text not in _MEMBERS:
                    raise self.error(
                        f"member .{member.text} is not supported (only .x .y .z)", "member access"
                    )
                e = ("idx", e, ("lit", _MEMBERS[member.text]), t.line)
                continue
            index = self.expr()
            self.expect("]")
            e = ("idx", e, index, t.line)
        return e

    def primary(self) -> Any:
        t = self.take()
        if t.kind == "num":
            return ("lit", float(t.text))
        if t.kind == "str":
            return ("lit", _unescape(t.text[1:-1]))
        if t.kind == "id":
            if t.text in ("true", "false"):
                return ("lit", t.text == "true")
            if t.text == "undef":
                return ("lit", None)
            if t.text in ("each", "function", "assert", "echo"):
                raise self.error(f"{t.text} expression is not supported", f"{t.text} expression", t.line)
            if self.at("("):
                self.take()
                return ("call", t.text, self.arguments(")"), t.line)
            return ("var", t.text, t.line)
        if t.kind == "op" and t.text == "(":
            e = self.expr()
            self.expect(")")
            return e
        if t.kind == "op" and t.text == "[":
            return self.vector(t.line)
        got = "end of file" if t.kind == "end" else repr(t.text)
        raise ScadError(self.name, t.line, f"expected an expression, got {got}", "syntax")

    def vector(self, line: int) -> Any:
        """After ``[``: a range ``[a:b]``/``[a:s:b]``, or a vector whose items may be generators."""
        items = []
        while not self.at("]"):
            first = not items
            items.append(self.element())
            if first and self.at(":") and items[0][0] not in _GENERATORS:
                self.take()
                parts = [items[0], self.expr()]
                if self.at(":"):
                    self.take()
                    parts.append(self.expr())
                self.expect("]")
                start, end = parts[0], parts[-1]
                step = parts[1] if len(parts) == 3 else None
                return ("range", start, step, end, line)
            if self.at(","):
                self.take()
            elif not self.at("]"):
                raise self.error("expected ',' or ']' in a vector")
        self.take()
        return ("vec", tuple(items))

    def element(self) -> Any:
        """One vector item: an expression or a list-comprehension generator."""
        self.enter()
        try:
            t = self.peek()
            if (
                t.kind == "id"
                and t.text in ("for", "let", "if", "each")
                and (t.text == "each" or self.at("(", 1))
            ):
                self.take()
                if t.text == "each":
                    return ("each", self.expr(), t.line)
                self.take()
                if t.text == "if":
                    cond = self.expr()
                    self.expect(")")
                    then = self.element()
                    orelse = None
                    if self.at_word("else"):
                        self.take()
                        orelse = self.element()
                    return ("gen_if", cond, then, orelse, t.line)
                bindings = self.bindings()
                return ("gen_" + t.text, bindings, self.element(), t.line)
            if self.at("(") and self.peek(1).kind == "id" and self.peek(1).text in ("for", "each"):
                self.take()  # a parenthesised generator: [(for (i = v) i)]
                inner = self.element()
                self.expect(")")
                return inner
            return self.expr()
        finally:
            self.depth -= 1


_GENERATORS = ("gen_for", "gen_let", "gen_if", "each")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def _unescape(body: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), body)


def parse_statements(text: str, name: str = "<scad>") -> tuple[Statement, ...]:
    """The top-level statements of OpenSCAD ``text``; ScadError/LimitError (one line) on what it refuses."""
    check_limit(name, "scad_bytes", len(text.encode("utf-8", "surrogatepass")), "file size in bytes")
    toks = _lex(text, name)
    check_limit(name, "scad_nodes", len(toks) - 1, "syntax tokens")
    return _Parser(toks, name).program()
