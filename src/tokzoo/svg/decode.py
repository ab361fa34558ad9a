"""Level-1 atoms → SVG text. Any prefix of a valid sequence decodes; a grammar error names its position.

A prefix stops anywhere: the complete commands of an unfinished path are drawn, an unfinished command or
header is dropped, a missing END is implied. This is what makes every step of constrained generation
renderable (HiVG, "Hierarchical SVG Tokenization", 2026: tokens that keep SVG programs executable).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from tokzoo.svg.atoms import STROKE_STEPS
from tokzoo.svg.grammar import Level1Parser, ParsedPath
from tokzoo.svg.vocab import Vocab

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
    body = "".join(_path_element(p, vocab, palette) for p in parser.paths)
    return f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {g} {g}" width="{g}" height="{g}">{body}</svg>\n'


def _hex(palette: np.ndarray, index: int) -> str:
    r, gr, b = (int(c) for c in palette[index])
    return f"#{r:02x}{gr:02x}{b:02x}"


def _fraction(vocab: Vocab, token: int) -> str:
    return f"{(token - vocab.opacity0) / (vocab.opacity - 1):.4g}"


def _path_element(path: ParsedPath, vocab: Vocab, palette: np.ndarray) -> str:
    header = path.header
    if not path.commands:  # an unfinished header: commands only start after a complete one
        return ""
    attrs = []
    i = 1
    if header[i] == Vocab.FILL_NONE:
        attrs.append('fill="none"')
        i += 1
    else:
        attrs.append(f'fill="{_hex(palette, header[i] - vocab.fill0)}"')
        if header[i + 1] != vocab.opacity0 + vocab.opacity - 1:
            attrs.append(f'fill-opacity="{_fraction(vocab, header[i + 1])}"')
        if header[i + 2] == Vocab.RULE_EVENODD:
            attrs.append('fill-rule="evenodd"')
        i += 3
    if header[i] != Vocab.STROKE_NONE:
        attrs.append(f'stroke="{_hex(palette, header[i] - vocab.stroke0)}"')
        attrs.append(f'stroke-width="{(header[i + 1] - vocab.value0) / STROKE_STEPS:g}"')
        if header[i + 2] != vocab.opacity0 + vocab.opacity - 1:
            attrs.append(f'stroke-opacity="{_fraction(vocab, header[i + 2])}"')
    d = " ".join(_command(c, p) for c, p in path.commands)
    return f'<path d="{d}" {" ".join(attrs)}/>'


def _command(letter: str, params: tuple[int, ...]) -> str:
    if letter == "a":
        rx, ry, rot, flags, dx, dy = params
        return f"a{rx} {ry} {rot} {flags >> 1} {flags & 1} {dx} {dy}"
    return letter + " ".join(str(p) for p in params)
