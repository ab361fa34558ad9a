"""CAD programs in the DeepCAD format: sketch loops of lines, arcs and circles, each sketch extruded.

DeepCAD ("DeepCAD: A Deep Generative Network for Computer-Aided Design Models", Wu, Xiao, Zheng, 2021) writes a
sketch-and-extrude model as at most 60 commands, each a command type and 16 arguments quantized to 8 bits
(unused ones -1): ``Line(x, y)``, ``Arc(x, y, alpha, f)``, ``Circle(x, y, r)``, ``SOL`` (start of a loop),
``Extrude(theta, phi, gamma, px, py, pz, s, e1, e2, b, u)`` and ``EOS``. A :class:`CadProgram` holds the same
content as nested dataclasses; its values are in *grid units* (floats for a continuous program, integers in
[0, 255] once quantized by :func:`tokzoo.cad.quantize.quantize_program`). What each value means geometrically is :mod:`tokzoo.cad.kernel`'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tokzoo.core.errors import DataError

__all__ = [
    "ARGS",
    "COMMANDS",
    "LEVELS",
    "MAX_COMMANDS",
    "Arc",
    "CadProgram",
    "Circle",
    "Extrude",
    "Line",
    "Loop",
    "Sketch",
]

LEVELS = 256  # 8-bit quantization of every argument
MAX_COMMANDS = 60
COMMANDS = ("Line", "Arc", "Circle", "EOS", "SOL", "Extrude")
#: DeepCAD's 16 argument columns, in order.
ARGS = ("x", "y", "alpha", "f", "r", "theta", "phi", "gamma", "px", "py", "pz", "s", "e1", "e2", "b", "u")
BOOLEANS = ("new", "join", "cut", "intersect")
EXTENTS = ("one-sided", "symmetric", "two-sided")


@dataclass(frozen=True)
class Line:
    """A straight segment from the previous curve's end to ``(x, y)``."""

    x: float
    y: float


@dataclass(frozen=True)
class Arc:
    """A circular arc from the previous curve's end to ``(x, y)`` sweeping ``alpha`` (steps of 2π/256),
    counter-clockwise when ``f`` is 1."""

    x: float
    y: float
    alpha: float
    f: int


@dataclass(frozen=True)
class Circle:
    """A full circle, centre ``(x, y)`` and radius ``r``: a loop on its own."""

    x: float
    y: float
    r: float


Curve = Line | Arc | Circle


@dataclass(frozen=True)
class Loop:
    """A closed loop: each curve ends where the next starts; the first starts where the last ends."""

    curves: tuple[Curve, ...]


@dataclass(frozen=True)
class Extrude:
    """Sketch plane orientation (``theta``, ``phi``, ``gamma``: Euler angles in steps of 2π/256), origin
    (``px``, ``py``, ``pz``), sketch scale ``s``, extents ``e1`` (and ``e2`` when two-sided), boolean ``b``
    (index into new/join/cut/intersect) and extent type ``u`` (one-sided/symmetric/two-sided)."""

    theta: float
    phi: float
    gamma: float
    px: float
    py: float
    pz: float
    s: float
    e1: float
    e2: float
    b: int
    u: int


@dataclass(frozen=True)
class Sketch:
    """One profile (loops; holes by even-odd) and the extrusion that turns it into a solid."""

    loops: tuple[Loop, ...]
    extrude: Extrude


@dataclass(frozen=True)
class CadProgram:
    """A sketch-and-extrude model: the operations applied in order to an empty solid."""

    sketches: tuple[Sketch, ...] = field(default_factory=tuple)

    def num_commands(self) -> int:
        """DeepCAD commands: one per curve, SOL per loop, Extrude per sketch, and EOS."""
        return sum(len(lp.curves) + 1 for sk in self.sketches for lp in sk.loops) + len(self.sketches) + 1

    def to_matrix(self) -> np.ndarray:
        """DeepCAD's (N, 17) integer array: command index, then 16 arguments (-1 where unused)."""
        rows = []

        def row(cmd: str, **args: float) -> None:
            r = np.full(17, -1, np.int64)
            r[0] = COMMANDS.index(cmd)
            for k, v in args.items():
                r[1 + ARGS.index(k)] = int(v)
            rows.append(r)

        for sk in self.sketches:
            for lp in sk.loops:
                row("SOL")
                for c in lp.curves:
                    if isinstance(c, Line):
                        row("Line", x=c.x, y=c.y)
                    elif isinstance(c, Arc):
                        row("Arc", x=c.x, y=c.y, alpha=c.alpha, f=c.f)
                    else:
                        row("Circle", x=c.x, y=c.y, r=c.r)
            e = sk.extrude
            row("Extrude", **{k: getattr(e, k) for k in ARGS[5:]})
        row("EOS")
        return np.stack(rows)

    @classmethod
    def from_matrix(cls, matrix: np.ndarray) -> CadProgram:
        """The program of a DeepCAD (N, 17) array (the grammar checks it when it is encoded)."""
        m = np.asarray(matrix)
        if m.ndim != 2 or m.shape[1] != 17:
            raise DataError(f"a DeepCAD matrix has shape (N, 17), got {m.shape}")
        sketches, loops, curves = [], [], []
        for i, r in enumerate(m.tolist()):
            a = dict(zip(ARGS, r[1:], strict=True))
            cmd = COMMANDS[r[0]] if 0 <= r[0] < len(COMMANDS) else None
            if cmd == "Line":
                curves.append(Line(a["x"], a["y"]))
            elif cmd == "Arc":
                curves.append(Arc(a["x"], a["y"], a["alpha"], a["f"]))
            elif cmd == "Circle":
                curves.append(Circle(a["x"], a["y"], a["r"]))
            elif cmd in ("SOL", "Extrude"):
                if curves:
                    loops.append(Loop(tuple(curves)))
                curves = []
                if cmd == "Extrude":
                    sketches.append(Sketch(tuple(loops), Extrude(**{k: a[k] for k in ARGS[5:]})))
                    loops = []
            elif cmd == "EOS":
                return cls(tuple(sketches))
            else:
                raise DataError(f"row {i}: unknown command index {r[0]}")
        raise DataError("a DeepCAD matrix ends with EOS")
