"""``CadPrimitiveTokenizer``: CAD programs ↔ primitive-level tokens learned on a training split (``cad-prim-q8``).

CAD-Tokenizer ("CAD-Tokenizer: Towards Text-based CAD Prototyping via Modality-Specific Tokenization", 2025)
argues that CAD sequences should be tokenized at the level of their *primitives* (a curve, an extrusion), not as
word pieces of their text or as one token per number. It pools each primitive into a VQ-VAE code, which is
lossy. This tokenizer keeps the round trip exact instead: the grammar tokens of :mod:`tokzoo.cad.grammar` are
grouped into units — a curve with all its arguments, ``SOL``, and an extrusion split into its orientation
(``EXT θ φ γ``), each origin coordinate, its scale, its boolean and type (``b u``) and its extents
(``e1 [e2]``), so that a centred coordinate or a common depth is shared by extrusions that differ elsewhere —
and a BPE over whole units (:mod:`tokzoo.core.unit_bpe`, HiVG's level 2) learns which units and runs of units
become one token: a square profile, an axis-aligned orientation, a through-all cut. Each sketch-and-extrude operation is one word, so a token
never spans two operations; ``EOS`` stays a grammar token. Ids below ``VOCAB_SIZE`` (262) are the grammar's own,
so an unfitted model writes exactly ``cad-deepcad-q8``'s tokens, and ``decode`` expands level-2 ids back to them:
``decode(encode(p)) == quantize_program(p)`` for every program, fitted or not. ``allowed_next`` is the grammar's
constrained-decoding mask lifted to the learned tokens (a token is allowed when all its grammar tokens are).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tokzoo.cad.grammar import CMD, VOCAB_SIZE, ProgramParser, program_tokens
from tokzoo.cad.program import Arc, CadProgram, Line
from tokzoo.cad.tokenizer import CadConfig, CadTokenizer
from tokzoo.core.errors import CheckpointError, ConfigError, DataError, TokenSequenceError
from tokzoo.core.presets import register_preset
from tokzoo.core.unit_bpe import SegmentTable, Unit, learn_segments

__all__ = ["CadPrimitiveConfig", "CadPrimitiveTokenizer", "operation_units"]

log = logging.getLogger("tokzoo.cad")


def operation_units(program: CadProgram) -> list[list[Unit]]:
    """The units of each sketch-and-extrude operation of a quantized program; their concatenation, then
    ``EOS``, is :func:`tokzoo.cad.grammar.program_tokens` of it."""
    ops = []
    for sk in program.sketches:
        units: list[Unit] = []
        for lp in sk.loops:
            units.append((CMD["SOL"],))
            for c in lp.curves:
                if isinstance(c, Line):
                    units.append((CMD["LINE"], c.x, c.y))
                elif isinstance(c, Arc):
                    units.append((CMD["ARC"], c.x, c.y, c.alpha, c.f))
                else:
                    units.append((CMD["CIRCLE"], c.x, c.y, c.r))
        e = sk.extrude
        extent = (e.e1, e.e2) if e.u == 2 else (e.e1,)
        units += [
            (CMD["EXT"], e.theta, e.phi, e.gamma),
            (e.px,),
            (e.py,),
            (e.pz,),
            (e.s,),
            (e.b, e.u),
            extent,
        ]
        ops.append(units)
    return ops


@dataclass
class CadPrimitiveConfig(CadConfig):
    """``num_segments`` learned tokens (3,834: a vocabulary of 4,096 with the 262 grammar tokens) of at most
    ``max_segment_atoms`` grammar tokens each; ``min_count`` occurrences in the training split to learn one."""

    num_segments: int = 3834
    max_segment_atoms: int = 64
    min_count: int = 2

    def __post_init__(self) -> None:
        for name, low in (("num_segments", 0), ("max_segment_atoms", 2), ("min_count", 2)):
            value = getattr(self, name)
            if type(value) is not int or value < low:
                raise ConfigError(f"cad config: {name} must be an integer >= {low}, got {value!r}")


class CadPrimitiveTokenizer(CadTokenizer):
    """CAD programs ↔ grammar tokens compressed by primitive-level BPE tokens (``fit`` learns them)."""

    def __init__(self, cfg: CadPrimitiveConfig) -> None:
        super().__init__(cfg)
        table, splits = SegmentTable(VOCAB_SIZE).to_arrays(cfg.num_segments, cfg.max_segment_atoms)
        self.register_buffer("segments", torch.from_numpy(table))
        self.register_buffer("segment_splits", torch.from_numpy(splits))
        self.register_buffer("atom_count", torch.tensor(VOCAB_SIZE, dtype=torch.int64))
        self._cache: dict[str, Any] = {}
        self.register_load_state_dict_post_hook(lambda module, _keys: module._cache.clear())

    def load_state_dict(self, state_dict: Any, strict: bool = True, assign: bool = False) -> Any:
        """Load saved state; :class:`CheckpointError` when its learned tokens index another grammar vocabulary."""
        count = state_dict.get("atom_count")
        if (strict or count is not None) and (
            not isinstance(count, torch.Tensor) or int(count) != VOCAB_SIZE
        ):
            saved = int(count) if isinstance(count, torch.Tensor) else "unknown"
            raise CheckpointError(
                f"cad checkpoint's learned tokens index {saved} grammar tokens, this tokzoo's grammar has "
                f"{VOCAB_SIZE}: refit it with CadPrimitiveTokenizer.fit and save it again"
            )
        return super().load_state_dict(state_dict, strict=strict, assign=assign)

    @property
    def vocab_size(self) -> int:
        """The grammar's tokens plus ``num_segments`` learned ids (used or not)."""
        return VOCAB_SIZE + self.cfg.num_segments

    @property
    def table(self) -> SegmentTable:
        if "table" not in self._cache:
            self._cache["table"] = SegmentTable.from_arrays(
                VOCAB_SIZE, self.segments.cpu().numpy(), self.segment_splits.cpu().numpy()
            )
        return self._cache["table"]

    def fit(self, programs: Iterable[Any]) -> dict[str, int]:
        """Learn the primitive tokens from training programs (``CadProgram``s, DeepCAD matrices or ``.cadseq``
        files); programs that cannot be read or that the grammar refuses are skipped, each with a one-line
        warning, and counted. Returns counts of programs used/skipped and of learned tokens."""
        words, used, skipped = [], 0, 0
        for i, item in enumerate(programs):
            try:
                if isinstance(item, (str, os.PathLike)):
                    item = self.load_file(Path(item))[0]
                program = self._program(item, i)
                program_tokens(program)  # the grammar's check: a program it refuses teaches nothing
                words += operation_units(program)
                used += 1
            except DataError as e:
                log.warning("cad fit: skipping %s", e)
                skipped += 1
        if not used:
            raise DataError(f"cad fit: none of the {skipped} training programs could be tokenized")
        c = self.cfg
        table = learn_segments(words, VOCAB_SIZE, c.num_segments, c.max_segment_atoms, c.min_count)
        arrays = table.to_arrays(c.num_segments, c.max_segment_atoms)
        self.segments.copy_(torch.from_numpy(arrays[0]))
        self.segment_splits.copy_(torch.from_numpy(arrays[1]))
        self._cache.clear()
        return {"programs": used, "skipped": skipped, "segments": len(table.expansions)}

    def _sequence(self, program: CadProgram) -> list[int]:
        """Level-2 ids: each operation's units merged by the learned tokens, then ``EOS``; DataError (naming
        the grammar token) for a program the grammar refuses, as ``cad-deepcad-q8`` gives."""
        program_tokens(program)
        ids: list[int] = []
        for units in operation_units(program):
            ids += self.table.encode_path(units)
        return [*ids, CMD["EOS"]]

    def grammar_tokens(self, ids: Iterable[int]) -> list[int]:
        """The grammar tokens (``cad-deepcad-q8``'s) of level-2 ``ids``; TokenSequenceError naming a bad id."""
        return self.table.expand(ids, self.vocab_size)[0]

    def _parse(self, ids: list[int]) -> CadProgram:
        """The program of level-2 ids; errors name the level-2 position."""
        atoms, where = self.table.expand(ids, self.vocab_size)
        parser = ProgramParser()
        for atom, pos in zip(atoms, where, strict=True):
            parser.feed(atom, pos)
        if not parser.done:
            raise TokenSequenceError("the sequence ends before EOS", len(ids))
        return parser.program()

    def allowed_next(self, prefix: Iterable[int]) -> torch.Tensor:
        """Boolean mask over the level-2 vocabulary: the grammar tokens the grammar allows next, and each learned
        token all of whose grammar tokens it allows in turn (DataError if ``prefix`` is not valid)."""
        atoms, where = self.table.expand(prefix, self.vocab_size)
        parser = ProgramParser()
        for atom, pos in zip(atoms, where, strict=True):
            parser.feed(atom, pos)
        mask = np.zeros(self.vocab_size, bool)
        mask[:VOCAB_SIZE] = parser.allowed()
        stack = [(parser, self._trie())]
        while stack:  # depth first over the learned tokens' expansions, sharing their common prefixes
            state, node = stack.pop()
            allowed = state.allowed()
            for atom, (ends, child) in node.items():
                if not allowed[atom]:
                    continue
                mask[ends] = True
                if child:
                    nxt = state.copy()
                    nxt.feed(atom, -1)
                    stack.append((nxt, child))
        return torch.from_numpy(mask)

    def _trie(self) -> dict:
        """The learned tokens' expansions as a trie: atom → (ids of the tokens that end there, children)."""
        if "trie" not in self._cache:
            root: dict = {}
            for k, expansion in enumerate(self.table.expansions):
                node = root
                for j, atom in enumerate(expansion):
                    ends, child = node.setdefault(atom, ([], {}))
                    if j == len(expansion) - 1:
                        ends.append(VOCAB_SIZE + k)
                    node = child
            self._cache["trie"] = root
        return self._cache["trie"]


register_preset(
    "cad-prim-q8", CadPrimitiveTokenizer, CadPrimitiveConfig(),
    "CAD programs as primitive-level tokens (CAD-Tokenizer): a BPE over whole curves and extrusion parts of "
    "the DeepCAD grammar, learned with fit; lossless at the 8-bit grid, grammar mask",
)  # fmt: skip
