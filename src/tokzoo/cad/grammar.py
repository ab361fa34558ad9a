"""The token grammar of CAD programs and its constrained-decoding mask.

Tokens: ids 0-255 are values, then one id per command::

    program  (sketch extrude)+ EOS                    at most 60 commands (DeepCAD's limit)
    sketch   (SOL curve+)+                            a loop of one circle, or >= 3 curves (>= 2 with an arc)
    curve    LINE x y | ARC x y alpha f | CIRCLE x y r
    extrude  EXT theta phi gamma px py pz s b u e1 [e2 if u is two-sided]

:class:`ProgramParser` reads tokens one at a time and :meth:`ProgramParser.allowed` gives the ids that keep the
prefix a valid program: values in their ranges (radius, sweep, scale and extents >= 1; flag 0/1; the first
extrusion is a new body), no zero-length curve (an endpoint equal to the previous one), a loop closed only
when it encloses something (and its first curve is not zero-length), and no command that would leave too few
of the 60 to finish. So every prefix the mask accepts completes to a program that parses; whether its
sketches are simple polygons (no self-intersection) is the kernel's check (:mod:`tokzoo.cad.kernel`).
Reference: CAD-Tokenizer ("CAD-Tokenizer: Towards Text-based CAD Prototyping via Modality-Specific
Tokenization", 2025) for primitive-level CAD tokens; DeepCAD (2021) for the command set.
"""

from __future__ import annotations

import numpy as np

from tokzoo.cad.program import LEVELS, MAX_COMMANDS, Arc, CadProgram, Circle, Extrude, Line, Loop, Sketch
from tokzoo.core.errors import DataError

__all__ = ["CMD", "EXT_ARGS", "VOCAB_SIZE", "ProgramParser", "clip_value", "parse_tokens", "program_tokens"]

CMD = {name: LEVELS + i for i, name in enumerate(("SOL", "LINE", "ARC", "CIRCLE", "EXT", "EOS"))}
VOCAB_SIZE = LEVELS + len(CMD)
CURVE_ARGS = {"LINE": ("x", "y"), "ARC": ("x", "y", "alpha", "f"), "CIRCLE": ("x", "y", "r")}
EXT_ARGS = ("theta", "phi", "gamma", "px", "py", "pz", "s", "b", "u", "e1", "e2")
#: Inclusive value range of each argument.
RANGES = {"x": (0, 255), "y": (0, 255), "alpha": (1, 255), "f": (0, 1), "r": (1, 255), "theta": (0, 255),
          "phi": (0, 255), "gamma": (0, 255), "px": (0, 255), "py": (0, 255), "pz": (0, 255), "s": (1, 255),
          "b": (0, 3), "u": (0, 2), "e1": (1, 255), "e2": (1, 255)}  # fmt: skip
_NAMES = {v: k for k, v in CMD.items()}


def clip_value(name: str, v: int) -> int:
    """``v`` clipped to the range of argument ``name``."""
    lo, hi = RANGES[name]
    return min(max(v, lo), hi)


def _name(token: int) -> str:
    return _NAMES.get(token, f"value {token}")


class ProgramParser:
    """Incremental parser of a token sequence into a :class:`CadProgram`."""

    def __init__(self) -> None:
        self.sketches: list[Sketch] = []
        self.loops: list[Loop] = []
        self.curves: list = []
        self.cmd: str | None = None  # the command whose arguments are being read
        self.args: list[int] = []
        self.commands = 0
        self.started = False  # inside a sketch (after its first SOL)
        self.done = False

    def copy(self) -> ProgramParser:
        """An independent parser in the same state (to try tokens without consuming them)."""
        new = type(self).__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.sketches, new.loops, new.curves, new.args = (
            [*self.sketches],
            [*self.loops],
            [*self.curves],
            [*self.args],
        )
        return new

    # -- state ----------------------------------------------------------------------------------------
    def _pending_names(self) -> tuple[str, ...]:
        if self.cmd == "EXT":
            return EXT_ARGS if len(self.args) > EXT_ARGS.index("u") and self.args[8] == 2 else EXT_ARGS[:-1]
        return CURVE_ARGS[self.cmd] if self.cmd else ()

    def _last_point(self) -> tuple[int, int] | None:
        return (self.curves[-1].x, self.curves[-1].y) if self.curves else None

    def _closable(self, curves: list) -> bool:
        if len(curves) == 1 and isinstance(curves[0], Circle):
            return True
        if any(isinstance(c, Circle) for c in curves):
            return False
        arcs = any(isinstance(c, Arc) for c in curves)
        if not (len(curves) >= 3 or (len(curves) >= 2 and arcs)):
            return False
        return (curves[0].x, curves[0].y) != (curves[-1].x, curves[-1].y)

    def _to_finish(self, curves: list | None, in_sketch: bool) -> int:
        """Fewest commands from a state to EOS (curves of the open loop, or None between operations)."""
        if not in_sketch:
            return 1 if self.sketches else 4  # EOS, or SOL + circle + EXT + EOS
        if curves is None or not curves:
            return 3  # a circle, EXT, EOS
        return 2 if self._closable(curves) else 3

    # -- the mask -------------------------------------------------------------------------------------
    def allowed(self) -> np.ndarray:
        """Boolean mask over the vocabulary: the ids that keep the prefix a valid program."""
        mask = np.zeros(VOCAB_SIZE, bool)
        if self.done:
            return mask
        if self.cmd is not None:
            name = self._pending_names()[len(self.args)]
            lo, hi = RANGES[name]
            if name == "b" and not self.sketches:
                hi = 0  # the first operation makes a new body
            mask[lo : hi + 1] = True
            prev = self._last_point()
            if name == "y" and prev is not None and self.args[0] == prev[0]:
                mask[prev[1]] = False  # no zero-length curve
            return mask
        budget = MAX_COMMANDS - self.commands - 1  # commands left after the next one
        if not self.started:
            mask[CMD["SOL"]] = budget >= 3
            mask[CMD["EOS"]] = bool(self.sketches)
            return mask
        curves = self.curves
        open_loop = not curves or not isinstance(curves[0], Circle)
        if open_loop:
            for cmd, new in (("LINE", Line(-1, -1)), ("ARC", Arc(-1, -1, 1, 0))):
                mask[CMD[cmd]] = budget >= self._to_finish([*curves, new], True)
            mask[CMD["CIRCLE"]] = not curves and budget >= 2
        if curves and self._closable(curves):
            mask[CMD["SOL"]] = budget >= 3
            mask[CMD["EXT"]] = budget >= 1
        return mask

    # -- reading --------------------------------------------------------------------------------------
    def feed(self, token: int, position: int) -> None:
        """Consume one token; DataError naming ``position`` if the grammar does not allow it here."""
        token = int(token)
        if not (0 <= token < VOCAB_SIZE and self.allowed()[token]):
            raise DataError(f"token {position}: {_name(token)} is not allowed here ({self._where()})")
        if self.cmd is not None:
            self.args.append(token)
            if len(self.args) == len(self._pending_names()):
                self._finish_command()
            return
        name = _NAMES[token]
        self.commands += 1
        if name == "EOS":
            self.done = True
        elif name == "SOL":
            if self.curves:
                self.loops.append(Loop(tuple(self.curves)))
            self.curves, self.started = [], True
        else:
            self.cmd, self.args = name, []

    def _finish_command(self) -> None:
        a = self.args
        if self.cmd == "LINE":
            self.curves.append(Line(a[0], a[1]))
        elif self.cmd == "ARC":
            self.curves.append(Arc(a[0], a[1], a[2], a[3]))
        elif self.cmd == "CIRCLE":
            self.curves.append(Circle(a[0], a[1], a[2]))
        else:
            th, ph, ga, px, py, pz, s, b, u, e1 = a[:10]
            e2 = a[10] if u == 2 else 0
            self.loops.append(Loop(tuple(self.curves)))
            self.sketches.append(Sketch(tuple(self.loops), Extrude(th, ph, ga, px, py, pz, s, e1, e2, b, u)))
            self.loops, self.curves, self.started = [], [], False
        self.cmd, self.args = None, []

    def _where(self) -> str:
        if self.done:
            return "after EOS"
        if self.cmd is not None:
            return f"expected {self.cmd}'s {self._pending_names()[len(self.args)]}"
        allowed = [_NAMES[t] for t in np.flatnonzero(self.allowed()) if t in _NAMES]
        return f"expected one of {', '.join(allowed) or 'nothing'}"

    def program(self) -> CadProgram:
        """The program read so far (complete sketches only)."""
        return CadProgram(tuple(self.sketches))


def parse_tokens(ids: list[int] | np.ndarray) -> CadProgram:
    """The program of a complete token sequence (ending with EOS); DataError naming the bad position."""
    parser = ProgramParser()
    for i, t in enumerate(np.asarray(ids, dtype=np.int64).reshape(-1).tolist()):
        parser.feed(t, i)
    if not parser.done:
        raise DataError(f"token {len(ids)}: the sequence ends before EOS ({parser._where()})")
    return parser.program()


def program_tokens(program: CadProgram) -> list[int]:
    """The token sequence of a quantized program; DataError (naming the token) if the grammar refuses it."""
    ids: list[int] = []
    for sk in program.sketches:
        for lp in sk.loops:
            ids.append(CMD["SOL"])
            for c in lp.curves:
                if isinstance(c, Line):
                    ids += [CMD["LINE"], c.x, c.y]
                elif isinstance(c, Arc):
                    ids += [CMD["ARC"], c.x, c.y, c.alpha, c.f]
                else:
                    ids += [CMD["CIRCLE"], c.x, c.y, c.r]
        e = sk.extrude
        ids += [CMD["EXT"], e.theta, e.phi, e.gamma, e.px, e.py, e.pz, e.s, e.b, e.u, e.e1]
        if e.u == 2:
            ids.append(e.e2)
    ids.append(CMD["EOS"])
    try:
        ids = [int(t) for t in ids]
    except (TypeError, ValueError) as err:
        raise DataError(f"a program value is not a number ({err})") from None
    parse_tokens(ids)  # the grammar's check, with the position of the first problem
    return ids
