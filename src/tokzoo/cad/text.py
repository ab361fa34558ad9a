"""Programs as text: the ``.cadseq`` file format (one quantized command per line) and a float rendering in
model units, the kind of text a language model would be given (the byte-level BPE baseline of
``benchmarks/cad.py`` tokenizes both)."""

from __future__ import annotations

import math

from tokzoo.cad.grammar import CMD, parse_tokens
from tokzoo.cad.program import LEVELS, Arc, CadProgram, Circle, Line
from tokzoo.core.errors import DataError

__all__ = ["from_cadseq", "to_cadseq", "to_float_text"]

_BOOLEANS = ("new", "join", "cut", "intersect")
_EXTENTS = ("one-sided", "symmetric", "two-sided")


def to_cadseq(program: CadProgram) -> str:
    """One command per line: ``SOL``, ``LINE x y``, ``ARC x y alpha f``, ``CIRCLE x y r``,
    ``EXT theta phi gamma px py pz s b u e1 [e2]``, ``EOS`` (integers of a quantized program)."""
    lines = []
    for sk in program.sketches:
        for lp in sk.loops:
            lines.append("SOL")
            for c in lp.curves:
                if isinstance(c, Line):
                    lines.append(f"LINE {c.x} {c.y}")
                elif isinstance(c, Arc):
                    lines.append(f"ARC {c.x} {c.y} {c.alpha} {c.f}")
                else:
                    lines.append(f"CIRCLE {c.x} {c.y} {c.r}")
        e = sk.extrude
        tail = f" {e.e2}" if e.u == 2 else ""
        lines.append(f"EXT {e.theta} {e.phi} {e.gamma} {e.px} {e.py} {e.pz} {e.s} {e.b} {e.u} {e.e1}{tail}")
    lines.append("EOS")
    return "\n".join(lines) + "\n"


def from_cadseq(text: str, name: str = "<cadseq>") -> CadProgram:
    """The program of ``.cadseq`` text; DataError naming the line or token that is wrong."""
    ids: list[int] = []
    for number, line in enumerate(text.splitlines(), 1):
        words = line.split("#")[0].split()
        if not words:
            continue
        if words[0] not in CMD:
            raise DataError(f"{name}:{number}: unknown command {words[0]!r}")
        try:
            values = [int(w) for w in words[1:]]
        except ValueError:
            raise DataError(f"{name}:{number}: arguments must be integers in [0, {LEVELS})") from None
        if any(not 0 <= v < LEVELS for v in values):
            raise DataError(f"{name}:{number}: arguments must be integers in [0, {LEVELS})")
        ids += [CMD[words[0]], *values]
    try:
        return parse_tokens(ids)
    except DataError as e:
        raise DataError(f"{name}: {e}") from None


def _f(v: float) -> str:
    return f"{v:.4f}"


def to_float_text(program: CadProgram) -> str:
    """The program in model units (plane angles in radians, lengths as the kernel sees them), 4 decimals."""
    half, turn = LEVELS / 2, 2 * math.pi / LEVELS
    out = []
    for sk in program.sketches:
        e = sk.extrude
        scale = e.s / half

        def pt(x: float, y: float, scale: float = scale) -> str:
            return f"{_f((x - half) / half * scale)} {_f((y - half) / half * scale)}"

        angles = " ".join(_f(a * turn) for a in (e.theta, e.phi, e.gamma))
        origin = " ".join(_f((p - half) / half) for p in (e.px, e.py, e.pz))
        out.append(f"sketch plane {angles} origin {origin}")
        for lp in sk.loops:
            out.append("  loop")
            for c in lp.curves:
                if isinstance(c, Line):
                    out.append(f"    line {pt(c.x, c.y)}")
                elif isinstance(c, Arc):
                    out.append(f"    arc {pt(c.x, c.y)} sweep {_f(c.alpha * turn)} {'ccw' if c.f else 'cw'}")
                elif isinstance(c, Circle):
                    out.append(f"    circle {pt(c.x, c.y)} radius {_f(c.r / half * scale)}")
        extent = _f(e.e1 / half) + (f" {_f(e.e2 / half)}" if e.u == 2 else "")
        out.append(f"extrude {_EXTENTS[int(e.u)]} {extent} {_BOOLEANS[int(e.b)]}")
    return "\n".join(out) + "\n"
