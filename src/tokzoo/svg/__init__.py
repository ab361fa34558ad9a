"""SVG as token sequences: HiVG-style hierarchical tokens ("Hierarchical SVG Tokenization", 2026).

``tokzoo.create("svg-hivg-256")`` gives a tokenizer whose ``fit(files)`` learns the palette and segment BPE;
``encode([svg, ...])`` → ``Tokens``; ``decode(tokens)`` → SVG strings; ``allowed_next(prefix)`` for
constrained generation. Bad input raises :class:`SvgInputError`, bad token sequences :class:`SvgTokenError`.
"""

from tokzoo.svg import modality  # noqa: F401  (registers the svg modality)
from tokzoo.svg.errors import SvgInputError, SvgTokenError
from tokzoo.svg.tokenizer import HiVGTokenizer, SvgConfig

__all__ = ["HiVGTokenizer", "SvgConfig", "SvgInputError", "SvgTokenError"]
