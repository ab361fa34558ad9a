"""CAD programs as tokens: DeepCAD-format sketch-and-extrude sequences, a grammar with a constrained-decoding
mask, execution through the manifold3d kernel, and OpenSCAD's sketch-and-extrude subset converted to programs
(``scad_to_program``; ``docs/cad.md``).

``tokzoo.create("cad-deepcad-q8")`` gives a :class:`CadTokenizer` (one token per command and per value);
``tokzoo.create("cad-prim-q8")`` a :class:`CadPrimitiveTokenizer` (CAD-Tokenizer's primitive-level tokens, learned
with ``fit``; lossless).
"""

from tokzoo.cad import modality  # noqa: F401  (registers the cad modality)
from tokzoo.cad.generate import random_program, random_programs
from tokzoo.cad.kernel import execute, solid_mesh, volume_iou
from tokzoo.cad.openscad import scad_to_program
from tokzoo.cad.primitives import CadPrimitiveConfig, CadPrimitiveTokenizer
from tokzoo.cad.program import Arc, CadProgram, Circle, Extrude, Line, Loop, Sketch
from tokzoo.cad.quantize import quantize_program
from tokzoo.cad.text import from_cadseq, to_cadseq, to_float_text
from tokzoo.cad.tokenizer import CadConfig, CadTokenizer

__all__ = [
    "Arc",
    "CadConfig",
    "CadPrimitiveConfig",
    "CadPrimitiveTokenizer",
    "CadProgram",
    "CadTokenizer",
    "Circle",
    "Extrude",
    "Line",
    "Loop",
    "Sketch",
    "execute",
    "from_cadseq",
    "quantize_program",
    "random_program",
    "random_programs",
    "scad_to_program",
    "solid_mesh",
    "to_cadseq",
    "to_float_text",
    "volume_iou",
]
