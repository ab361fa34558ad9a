"""Level-1 atoms → SVG text. Any prefix of a valid sequence decodes; a grammar error names its position.

Points of a FINE path are written as exact fractions of the grid (``12.3125``: 2^-fine_bits steps).
A prefix stops anywhere: the complete commands of an unfinished path are drawn, an unfinished command or
header is dropped, a missing END is implied. This is what makes every step of constrained generation
renderable (HiVG, "Hierarchical SVG Tokenization", 2026: tokens that keep SVG programs executable).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from tokzoo.svg.atoms import STROKE_STEPS
from tokzoo.svg.grammar import Level1Parser, ParsedPath
from tokzoo.svg.vocab import CAPS, JOINS, Vocab

__all__ = ["atoms_to_svg", "parse_atoms"]


def parse_atoms(atoms: Iterable[int], vocab: Vocab, positions: list[int] | None = None) -> Level1Parser:
    """Run the grammar over ``atoms``; errors name ``positions[i]`` (default: the atom index)."""
    parser = Level1Parser(vocab)
    for i, t in enumerate(atoms):
        parser.feed(int(t), i if positions is None else positions[i])
    return parser


def atoms_to_svg(
    atoms: Iterable[int], vocab: Vocab, palette: np.ndarray, positions: list[int] | None = None
) -> str:
    """A standalone SVG document (viewBox ``0 0 grid grid``) drawing the paths of ``atoms``."""
    parser = parse_atoms(atoms, vocab, positions)
    g = vocab.grid
    body = "".join(_path_element(p, vocab, palette, f"g{i}") for i, p in enumerate(parser.paths))
    return f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {g} {g}" width="{g}" height="{g}">{body}</svg>\n'


def _hex(palette: np.ndarray, index: int) -> str:
    r, gr, b = (int(c) for c in palette[index])
    return f"#{r:02x}{gr:02x}{b:02x}"


def _fraction(vocab: Vocab, token: int) -> str:
    return f"{(token - vocab.opacity0) / (vocab.opacity - 1):.4g}"


def _path_element(path: ParsedPath, vocab: Vocab, palette: np.ndarray, gid: str) -> str:
    """``<path>`` of one parsed path (preceded by its ``<linearGradient id=gid>`` when it has one)."""
    h = path.header
    if not path.commands:  # an unfinished header: commands only start after a complete one
        return ""
    attrs, defs = [], ""
    full = vocab.opacity0 + vocab.opacity - 1
    i = 1
    if h[i] == Vocab.FILL_NONE:
        attrs.append('fill="none"')
        i += 1
    elif h[i] == Vocab.FILL_LINEAR:
        x1, y1, x2, y2 = (t - vocab.value0 for t in h[i + 1 : i + 5])
        stops = "".join(
            f'<stop offset="{k}" stop-color="{_hex(palette, h[j] - vocab.fill0)}"'
            + (f' stop-opacity="{_fraction(vocab, h[j + 1])}"' if h[j + 1] != full else "")
            + "/>"
            for k, j in ((0, i + 5), (1, i + 7))
        )
        defs = (
            f'<linearGradient id="{gid}" gradientUnits="userSpaceOnUse" x1="{x1}" y1="{y1}" x2="{x2}" '
            f'y2="{y2}">{stops}</linearGradient>'
        )
        attrs.append(f'fill="url(#{gid})"')
        i += 9
    else:
        attrs.append(f'fill="{_hex(palette, h[i] - vocab.fill0)}"')
        if h[i + 1] != full:
            attrs.append(f'fill-opacity="{_fraction(vocab, h[i + 1])}"')
        i += 2
    if h[1] != Vocab.FILL_NONE:  # the fill rule closes a fill
        if h[i] == Vocab.RULE_EVENODD:
            attrs.append('fill-rule="evenodd"')
        i += 1
    if h[i] != Vocab.STROKE_NONE:
        attrs.append(f'stroke="{_hex(palette, h[i] - vocab.stroke0)}"')
        attrs.append(f'stroke-width="{(h[i + 1] - vocab.value0) / STROKE_STEPS:g}"')
        if h[i + 2] != full:
            attrs.append(f'stroke-opacity="{_fraction(vocab, h[i + 2])}"')
        cap, join, dashed = vocab.style_of(h[i + 3])
        if cap:
            attrs.append(f'stroke-linecap="{CAPS[cap]}"')
        if join:
            attrs.append(f'stroke-linejoin="{JOINS[join]}"')
        if dashed:
            dash, gap = ((t - vocab.value0) / STROKE_STEPS for t in h[i + 4 : i + 6])
            attrs.append(f'stroke-dasharray="{dash:g} {gap:g}"')
    d = " ".join(_command(c, p, path.scale) for c, p in path.commands)
    return f'{defs}<path d="{d}" {" ".join(attrs)}/>'


def _coord(v: int, scale: int) -> str:
    """``v / scale`` written exactly (a lattice value of a FINE path: ``12.3125``; an integer otherwise)."""
    return str(v // scale) if v % scale == 0 else repr(v / scale)


def _command(letter: str, params: tuple[int, ...], scale: int) -> str:
    """One path command; points are in lattice units (``scale`` per grid step)."""
    if letter == "a":
        rx, ry, rot, flags, dx, dy = params
        return f"a{rx} {ry} {rot} {flags >> 1} {flags & 1} {_coord(dx, scale)} {_coord(dy, scale)}"
    return letter + " ".join(_coord(p, scale) for p in params)
