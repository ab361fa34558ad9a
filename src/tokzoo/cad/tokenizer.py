"""``CadTokenizer``: DeepCAD-format sketch-and-extrude programs <-> tokens (registered as ``cad-deepcad-q8``).

``encode`` takes a batch of programs (:class:`CadProgram`, continuous or quantized, or DeepCAD ``(N, 17)``
matrices), quantizes each to 8 bits per value and writes it as the token grammar of
:mod:`tokzoo.cad.grammar` (a command token then only the arguments it uses); ``decode`` parses them back.
Lossless at the quantization grid: ``decode(encode(p)) == quantize_program(p)``, and re-encoding a decoded program
gives the same tokens. The constrained-decoding mask is :meth:`CadTokenizer.allowed_next`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tokzoo.cad.grammar import VOCAB_SIZE, ProgramParser, parse_tokens, program_tokens
from tokzoo.cad.program import MAX_COMMANDS, Arc, CadProgram, Circle, Extrude, Line, Loop, Sketch
from tokzoo.cad.quantize import quantize_program
from tokzoo.cad.text import from_cadseq, to_cadseq
from tokzoo.core.atomic import atomic_write_bytes
from tokzoo.core.errors import ConfigError, DataError
from tokzoo.core.presets import register_preset
from tokzoo.core.tokenizer import Tokenizer
from tokzoo.core.tokens import Tokens

__all__ = ["CadConfig", "CadTokenizer"]


@dataclass
class CadConfig:
    """``max_commands``: DeepCAD's limit (60); longer programs are refused."""

    max_commands: int = MAX_COMMANDS


class CadTokenizer(Tokenizer):
    """Deterministic, weight-free tokenizer of CAD programs."""

    modality = "cad"

    def __init__(self, cfg: CadConfig) -> None:
        super().__init__(cfg)
        if cfg.max_commands != MAX_COMMANDS:
            raise ConfigError(
                f"max_commands is fixed by the grammar at {MAX_COMMANDS}, got {cfg.max_commands!r}"
            )

    @property
    def vocab_size(self) -> int:
        return VOCAB_SIZE

    def _program(self, item: Any, i: int) -> CadProgram:
        if isinstance(item, np.ndarray):
            item = CadProgram.from_matrix(item)
        if not isinstance(item, CadProgram):
            raise DataError(
                f"sample {i}: cannot tokenize a {type(item).__name__}: expected a CadProgram or a DeepCAD matrix"
            )
        if item.num_commands() > self.cfg.max_commands:
            raise DataError(
                f"sample {i}: {item.num_commands()} commands is more than DeepCAD's {self.cfg.max_commands}"
            )
        return quantize_program(item)

    def encode(self, x: Any, *, num_tokens: int | None = None) -> Tokens:
        """Tokens of a batch of programs (a single program counts as a batch of one)."""
        if num_tokens is not None:
            raise ConfigError("CAD tokens are lossless: their count follows from the program, not num_tokens")
        items = list(x) if isinstance(x, list) else [x]
        if not items:
            raise DataError("empty batch: nothing to encode")
        seqs = []
        for i, item in enumerate(items):
            try:
                seqs.append(self._sequence(self._program(item, i)))
            except DataError as e:
                raise DataError(f"sample {i}: {e}" if not str(e).startswith("sample") else str(e)) from None
        lengths = torch.tensor([len(s) for s in seqs], dtype=torch.int64)
        ids = torch.zeros((len(seqs), int(lengths.max())), dtype=torch.int64)
        for i, s in enumerate(seqs):
            ids[i, : len(s)] = torch.tensor(s, dtype=torch.int64)
        return Tokens(ids, lengths, self.vocab_size, "seq1d", (), {"tokenizer": self.registry_name})

    def _sequence(self, program: CadProgram) -> list[int]:
        """The token ids of one quantized program."""
        return program_tokens(program)

    def _parse(self, ids: list[int]) -> CadProgram:
        """The program of one complete id sequence; DataError naming the bad position."""
        return parse_tokens(ids)

    def decode(self, tokens: Tokens) -> list[CadProgram]:
        """The quantized programs; DataError naming the sample and token position of a grammar error."""
        if tokens.layout != "seq1d" or tokens.vocab_size != self.vocab_size:
            raise DataError(
                f"expected seq1d tokens over {self.vocab_size} ids, got {tokens.layout!r} over {tokens.vocab_size}"
            )
        out = []
        for i in range(tokens.batch_size):
            try:
                out.append(self._parse(tokens.sample(i).tolist()))
            except DataError as e:
                raise DataError(f"sample {i}: {e}") from None
        return out

    def allowed_next(self, prefix: Iterable[int]) -> torch.Tensor:
        """Boolean mask over the vocabulary: ids that keep ``prefix`` a valid program (DataError if it is not)."""
        parser = ProgramParser()
        for i, t in enumerate(prefix):
            parser.feed(int(t), i)
        return torch.from_numpy(parser.allowed())

    def example_input(self) -> list[CadProgram]:
        """A box with a cylinder cut through it, and a slotted plate."""
        box = Loop((Line(160, 96), Line(160, 160), Line(96, 160), Line(96, 96)))
        hole = Loop((Circle(128, 128, 16),))
        slot = Loop((Line(176, 112), Arc(176, 144, 128, 1), Line(80, 144), Arc(80, 112, 128, 1)))
        up = Extrude(0, 0, 0, 128, 128, 128, 128, 64, 0, 0, 0)
        cut = Extrude(0, 64, 0, 128, 128, 128, 128, 96, 0, 2, 1)
        return [
            CadProgram((Sketch((box,), up), Sketch((hole,), cut))),
            CadProgram((Sketch((slot, Loop((Circle(128, 128, 8),))), up),)),
        ]

    def load_file(self, path: Path) -> list[CadProgram]:
        """A ``.cadseq`` file as a batch of one."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise DataError(f"{path}: cannot read ({e})") from None
        return [from_cadseq(text, str(path))]

    def save_file(self, data: CadProgram, path: Path) -> None:
        """Write a decoded program as ``.cadseq`` text."""
        atomic_write_bytes(Path(path), to_cadseq(data).encode("utf-8"))


register_preset(
    "cad-deepcad-q8", CadTokenizer, CadConfig(),
    "CAD sketch-and-extrude programs (DeepCAD commands), 8-bit values, grammar mask; lossless at the grid",
)  # fmt: skip
