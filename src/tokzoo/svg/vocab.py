"""The level-1 (atomic) vocabulary of HiVG-style SVG tokens: structure, style, commands, flags, integers.

HiVG ("Hierarchical SVG Tokenization: Learning Compact Visual Programs for Scalable Vector Graphics
Modeling", 2026) splits an SVG program into atomic tokens before compressing whole command groups. Here the
atomic vocabulary is laid out as consecutive id blocks::

    END PATH PATH_END FILL_NONE STROKE_NONE RULE_NONZERO RULE_EVENODD FILL_LINEAR
    commands  M m l h v c s q t a z       (the first point of a path is absolute M, the rest relative)
    arc flags  (large-arc, sweep) in 00 01 10 11
    STYLE_0 .. STYLE_17                   stroke style: 9 * dashed + 3 * cap + join
    FILL_0 .. FILL_{P-1}   STROKE_0 .. STROKE_{P-1}   (palette entries)
    OPACITY_0 .. OPACITY_{K-1}                         (opacity k / (K-1))
    integers -V .. V with V = 2 * grid                 (coordinates, deltas, radii, angles, widths)
    FINE  RES_0 .. RES_{4^b - 1}                       (only when fine_bits b > 0: sub-grid precision)

``FINE`` ends the header of a path whose points lie on the lattice of 2^-b grid steps; there every point's
integer tokens are followed by one residual ``RES_k``, k = rx * 2^b + ry, the remainders of its x and y in
2^-b steps (:mod:`tokzoo.svg.atoms`). With ``fine_bits = 0`` the layout is exactly layout 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

__all__ = ["ARC_PROBES", "ARITY", "CAPS", "COMMANDS", "JOINS", "LAYOUT_VERSION", "Vocab"]

#: Version of the id layout below, saved with every checkpoint: a segment table learned under another layout
#: names other atoms. 1: no FILL_LINEAR and STYLE blocks; 2: FILL_LINEAR and 18 STYLE tokens; 3: FINE and the
#: residual block after the integers (segment ids start after them).
LAYOUT_VERSION = 3
COMMANDS = ("M", "m", "l", "h", "v", "c", "s", "q", "t", "a", "z")
#: Number of integer parameters after each command token (``a`` also has one flag token after ``rot``).
ARITY = {"M": 2, "m": 2, "l": 2, "h": 1, "v": 1, "c": 6, "s": 4, "q": 4, "t": 2, "a": 5, "z": 0}
_SPECIALS = (
    "END",
    "PATH",
    "PATH_END",
    "FILL_NONE",
    "STROKE_NONE",
    "RULE_NONZERO",
    "RULE_EVENODD",
    "FILL_LINEAR",
)
#: Where along an arc (fraction of its angle) the original and the quantized arc are compared.
ARC_PROBES = (0.25, 0.5, 0.75)
CAPS = ("butt", "round", "square")  # stroke-linecap values, the SVG default first
JOINS = ("miter", "round", "bevel")  # stroke-linejoin values, the SVG default first
STYLES = 2 * len(CAPS) * len(JOINS)


@dataclass(frozen=True)
class Vocab:
    """Id layout of the atomic vocabulary for a ``grid``, a palette of ``palette`` colours, ``opacity`` levels
    and ``fine_bits`` bits of sub-grid precision for fine paths (0: none, no FINE or residual atoms)."""

    grid: int
    palette: int
    opacity: int
    fine_bits: int = 0

    END = 0
    PATH = 1
    PATH_END = 2
    FILL_NONE = 3
    STROKE_NONE = 4
    RULE_NONZERO = 5
    RULE_EVENODD = 6
    FILL_LINEAR = 7

    @property
    def cmd0(self) -> int:
        return len(_SPECIALS)

    @property
    def flag0(self) -> int:
        return self.cmd0 + len(COMMANDS)

    @property
    def style0(self) -> int:
        return self.flag0 + 4

    @property
    def fill0(self) -> int:
        return self.style0 + STYLES

    @property
    def stroke0(self) -> int:
        return self.fill0 + self.palette

    @property
    def opacity0(self) -> int:
        return self.stroke0 + self.palette

    @property
    def max_value(self) -> int:
        """V: integers run over [-V, V]."""
        return 2 * self.grid

    @property
    def value0(self) -> int:
        """Id of the integer 0."""
        return self.opacity0 + self.opacity + self.max_value

    @property
    def fine(self) -> int:
        """Id of the FINE header atom (only used when ``fine_bits`` > 0)."""
        return self.value0 + self.max_value + 1

    @property
    def fine_steps(self) -> int:
        """n = 2^fine_bits: lattice points per grid step in a fine path."""
        return 1 << self.fine_bits

    @property
    def res0(self) -> int:
        """Id of RES_0 (residual (0, 0))."""
        return self.fine + 1

    @property
    def residuals(self) -> int:
        """Number of residual atoms: n * n, none when ``fine_bits`` is 0."""
        return self.fine_steps**2 if self.fine_bits else 0

    @property
    def size(self) -> int:
        return self.fine + (1 + self.residuals if self.fine_bits else 0)

    @property
    def coord_range(self) -> tuple[int, int]:
        """Absolute grid coordinates allowed for any point: the canvas [0, grid] plus half a canvas margin."""
        return -self.grid // 2, self.grid + self.grid // 2

    def cmd(self, name: str) -> int:
        return self.cmd0 + COMMANDS.index(name)

    def value(self, v: int) -> int:
        return self.value0 + v

    def flags(self, large: int, sweep: int) -> int:
        return self.flag0 + 2 * large + sweep

    def style(self, cap: int, join: int, dashed: bool) -> int:
        """Id of the stroke style token: ``cap``/``join`` index :data:`CAPS`/:data:`JOINS`."""
        return self.style0 + 9 * int(dashed) + 3 * cap + join

    def style_of(self, token: int) -> tuple[int, int, bool]:
        """``(cap, join, dashed)`` of a style token."""
        k = token - self.style0
        return (k % 9) // 3, k % 3, k >= 9

    @cached_property
    def _cmd_names(self) -> dict[int, str]:
        return {self.cmd0 + i: c for i, c in enumerate(COMMANDS)}

    def command_of(self, token: int) -> str | None:
        """The command letter of ``token``, or None."""
        return self._cmd_names.get(token)

    def res(self, rx: int, ry: int) -> int:
        """Id of the residual atom for remainders ``rx``, ``ry`` in [0, n)."""
        return self.res0 + rx * self.fine_steps + ry

    def res_of(self, token: int) -> tuple[int, int]:
        """``(rx, ry)`` of a residual atom."""
        return divmod(token - self.res0, self.fine_steps)

    def is_value(self, token: int) -> bool:
        return self.value0 - self.max_value <= token <= self.value0 + self.max_value

    def is_res(self, token: int) -> bool:
        return self.res0 <= token < self.res0 + self.residuals

    def name(self, token: int) -> str:
        """A readable name of an atomic id (for error messages and debugging)."""
        if 0 <= token < self.cmd0:
            return _SPECIALS[token]
        if token in self._cmd_names:
            return self._cmd_names[token]
        if self.flag0 <= token < self.style0:
            k = token - self.flag0
            return f"FLAGS_{k >> 1}{k & 1}"
        if self.style0 <= token < self.fill0:
            cap, join, dashed = self.style_of(token)
            return f"STYLE_{CAPS[cap]}_{JOINS[join]}" + ("_DASHED" if dashed else "")
        if self.fill0 <= token < self.stroke0:
            return f"FILL_{token - self.fill0}"
        if self.stroke0 <= token < self.opacity0:
            return f"STROKE_{token - self.stroke0}"
        if self.opacity0 <= token < self.opacity0 + self.opacity:
            return f"OPACITY_{token - self.opacity0}"
        if self.is_value(token):
            return f"INT({token - self.value0})"
        if self.fine_bits and token == self.fine:
            return "FINE"
        if self.is_res(token):
            return "RES_{}_{}".format(*self.res_of(token))
        return f"<id {token}>"
