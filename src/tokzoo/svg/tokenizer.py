"""``HiVGTokenizer``: SVG files ↔ hierarchical tokens (atoms at level 1, BPE segment tokens at level 2).

Implements HiVG, "Hierarchical SVG Tokenization: Learning Compact Visual Programs for Scalable Vector
Graphics Modeling" (2026): real-world SVG is flattened onto an integer grid (:mod:`~tokzoo.svg.parse`),
written as atomic tokens (:mod:`~tokzoo.svg.atoms`), then compressed into segment tokens learned on a
training split (:mod:`~tokzoo.core.unit_bpe`). The palette and the learned segments are buffers, so they are
saved in ``model.safetensors`` by ``save_pretrained`` and restored by ``tokzoo.load``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from tokzoo.core.atomic import atomic_write_bytes
from tokzoo.core.errors import CheckpointError, ConfigError, DataError
from tokzoo.core.presets import register_preset
from tokzoo.core.tokenizer import Tokenizer
from tokzoo.core.tokens import Tokens
from tokzoo.core.unit_bpe import SegmentTable, learn_segments
from tokzoo.svg.atoms import Level1, encode_shapes
from tokzoo.svg.constrain import SegmentGeometry
from tokzoo.svg.decode import atoms_to_svg, parse_atoms
from tokzoo.svg.errors import SvgInputError, SvgTokenError
from tokzoo.svg.palette import learn_palette, uniform_palette
from tokzoo.svg.parse import parse_svg, read_svg_source
from tokzoo.svg.vocab import LAYOUT_VERSION, Vocab

__all__ = ["HiVGTokenizer", "SvgConfig", "SvgSource"]

#: At most 4 bits of sub-grid precision: 256 residual atoms.
MAX_FINE_BITS = 4
SvgSource = str | bytes | os.PathLike
#: ``str``/``bytes`` are SVG text, a ``Path`` is a file.


@dataclass
class SvgConfig:
    """``grid``: canvas side in integer steps; ``palette_size`` colours; ``opacity_levels``; room for
    ``num_segments`` level-2 tokens of at most ``max_segment_atoms`` atoms each. Stroke-only paths thinner than
    ``fine_below`` grid steps put their points on a 2^-``fine_bits`` lattice (FINE paths, 0 bits: off)."""

    grid: int = 256
    palette_size: int = 64
    opacity_levels: int = 8
    num_segments: int = 4096
    max_segment_atoms: int = 32
    fine_bits: int = 4
    fine_below: float = 1.0

    def __post_init__(self) -> None:
        for name, low in [
            ("grid", 8),
            ("palette_size", 1),
            ("opacity_levels", 2),
            ("num_segments", 0),
            ("max_segment_atoms", 2),
        ]:
            value = getattr(self, name)
            if type(value) is not int or value < low:
                raise ConfigError(f"svg config: {name} must be an integer >= {low}, got {value!r}")
        if self.grid > 4096:
            raise ConfigError(f"svg config: grid must be <= 4096, got {self.grid}")
        if type(self.fine_bits) is not int or not 0 <= self.fine_bits <= MAX_FINE_BITS:
            raise ConfigError(
                f"svg config: fine_bits must be an integer in [0, {MAX_FINE_BITS}], got {self.fine_bits!r}"
            )
        if type(self.fine_below) not in (int, float) or not 0 < self.fine_below < math.inf:
            raise ConfigError(f"svg config: fine_below must be a positive number, got {self.fine_below!r}")


class HiVGTokenizer(Tokenizer):
    """SVG ↔ tokens. ``encode`` takes a list of SVG sources and ``decode`` returns a list of SVG strings."""

    modality: ClassVar[str] = "svg"

    def __init__(self, cfg: SvgConfig) -> None:
        super().__init__(cfg)
        self.atom_vocab = Vocab(cfg.grid, cfg.palette_size, cfg.opacity_levels, cfg.fine_bits)
        self.register_buffer("palette", torch.from_numpy(uniform_palette(cfg.palette_size)))
        table, splits = SegmentTable(self.atom_vocab.size).to_arrays(cfg.num_segments, cfg.max_segment_atoms)
        self.register_buffer("segments", torch.from_numpy(table))
        self.register_buffer("segment_splits", torch.from_numpy(splits))
        self.register_buffer("atom_layout", torch.tensor(LAYOUT_VERSION, dtype=torch.int64))
        self.register_buffer("atom_count", torch.tensor(self.atom_vocab.size, dtype=torch.int64))
        self._cache: dict[str, Any] = {}
        self.register_load_state_dict_post_hook(lambda module, _keys: module._cache.clear())

    # -- learned state -------------------------------------------------------------------------------
    def load_state_dict(self, state_dict: Any, strict: bool = True, assign: bool = False) -> Any:
        """Load saved state; :class:`CheckpointError` when it was saved with another atomic id layout or
        another atomic vocabulary (a config.json whose grid, palette, opacity levels or fine_bits differ from
        the ones the segments were learned with): its segment and palette ids would decode to the wrong atoms."""
        saved = state_dict.get("atom_layout")
        version = int(saved) if isinstance(saved, torch.Tensor) and saved.numel() == 1 else 1
        if version != LAYOUT_VERSION:
            raise CheckpointError(
                f"svg checkpoint uses atomic vocabulary layout {version}, this tokzoo uses {LAYOUT_VERSION} "
                "(the atom ids moved, so its segments would decode wrong): refit it with HiVGTokenizer.fit "
                "and save it again"
            )
        count = state_dict.get("atom_count")
        if not isinstance(count, torch.Tensor) or int(count) != self.atom_vocab.size:
            c = self.cfg
            raise CheckpointError(
                f"svg checkpoint's segments index {int(count) if isinstance(count, torch.Tensor) else 'unknown'} "
                f"atoms, but its config (grid {c.grid}, palette_size {c.palette_size}, opacity_levels "
                f"{c.opacity_levels}, fine_bits {c.fine_bits}) has {self.atom_vocab.size}: config.json does not "
                "match model.safetensors; restore the config it was saved with, or refit and save it again"
            )
        return super().load_state_dict(state_dict, strict=strict, assign=assign)

    @property
    def vocab_size(self) -> int:
        """Level-2 vocabulary: every atom plus ``num_segments`` segment ids (learned or not)."""
        return self.atom_vocab.size + self.cfg.num_segments

    @property
    def table(self) -> SegmentTable:
        if "table" not in self._cache:
            self._cache["table"] = SegmentTable.from_arrays(
                self.atom_vocab.size, self.segments.cpu().numpy(), self.segment_splits.cpu().numpy()
            )
        return self._cache["table"]

    @property
    def colours(self) -> np.ndarray:
        """The palette as an ``(P, 3)`` uint8 array."""
        return self.palette.cpu().numpy()

    def fit(
        self, sources: Iterable[SvgSource], *, learn_colours: bool = True, seed: int = 0
    ) -> dict[str, int]:
        """Learn the palette (k-means of the paints) and the segment BPE from training SVGs.

        Files that fail to parse are skipped and counted; returns counts of files used/skipped and segments.
        """
        shape_lists, skipped = [], 0
        for src in sources:
            try:
                data, name = read_svg_source(src)
                shape_lists.append(parse_svg(data, self.cfg.grid, name))
            except SvgInputError:
                skipped += 1
        if not shape_lists:
            raise DataError("fit: no training SVG could be parsed")
        if learn_colours:
            paints = [
                c for shapes in shape_lists for s in shapes for c in (s.fill, s.stroke) if c is not None
            ]
            self.palette.copy_(torch.from_numpy(learn_palette(paints, self.cfg.palette_size, seed=seed)))
        self._cache.clear()
        paths = [
            p
            for shapes in shape_lists
            for p in encode_shapes(shapes, self.atom_vocab, self.colours, self.cfg.fine_below).paths
        ]
        table = learn_segments(paths, self.atom_vocab.size, self.cfg.num_segments, self.cfg.max_segment_atoms)
        arrays = table.to_arrays(self.cfg.num_segments, self.cfg.max_segment_atoms)
        self.segments.copy_(torch.from_numpy(arrays[0]))
        self.segment_splits.copy_(torch.from_numpy(arrays[1]))
        self._cache.clear()
        return {"files": len(shape_lists), "skipped": skipped, "segments": len(table.expansions)}

    # -- encode --------------------------------------------------------------------------------------
    def level1(self, source: SvgSource) -> Level1:
        """Atomic tokens of one SVG (raises :class:`SvgInputError` for unusable input)."""
        data, name = read_svg_source(source)
        shapes = parse_svg(data, self.cfg.grid, name)
        doc = encode_shapes(shapes, self.atom_vocab, self.colours, self.cfg.fine_below)
        if not doc.paths:
            raise SvgInputError(
                f"{name}: no drawable content on the {self.cfg.grid} grid (every path is a point)"
            )
        return doc

    def encode(
        self, x: Sequence[SvgSource] | SvgSource, *, num_tokens: int | None = None, level: int = 2
    ) -> Tokens:
        """Tokens of a batch of SVG sources (``level=1`` gives the atoms alone, over the atomic vocabulary)."""
        if num_tokens is not None:
            raise ConfigError("svg tokenizers are variable-length: num_tokens cannot be set")
        batch = [x] if isinstance(x, (str, bytes, os.PathLike)) else list(x)
        return self.doc_tokens([self.level1(src) for src in batch], level)

    def doc_tokens(self, docs: Sequence[Level1], level: int = 2) -> Tokens:
        """Tokens of already parsed documents (from :meth:`level1`): both levels of a file from one parse."""
        if level not in (1, 2):
            raise ConfigError(f"level must be 1 (atoms) or 2 (segments), got {level!r}")
        seqs = [
            doc.atoms()
            if level == 1
            else [t for path in doc.paths for t in self.table.encode_path(path)] + [Vocab.END]
            for doc in docs
        ]
        longest = max((len(s) for s in seqs), default=0)
        ids = torch.zeros((len(seqs), longest), dtype=torch.int64)
        for i, s in enumerate(seqs):
            ids[i, : len(s)] = torch.tensor(s, dtype=torch.int64)
        lengths = torch.tensor([len(s) for s in seqs], dtype=torch.int64)
        clamped = [doc.clamped for doc in docs]
        meta = {"tokenizer": self.registry_name, "level": level, "grid": self.cfg.grid, "clamped": clamped}
        vocab = self.atom_vocab.size if level == 1 else self.vocab_size
        return Tokens(ids, lengths, vocab, "seq1d", (), meta)

    # -- decode --------------------------------------------------------------------------------------
    def atoms(self, ids: Iterable[int], level: int = 2) -> tuple[list[int], list[int]]:
        """Level-1 atoms of a level-1 or level-2 id sequence, with the source position of each atom."""
        if level == 1:
            atoms = [int(t) for t in ids]
            return atoms, list(range(len(atoms)))
        return self.table.expand(ids, self.vocab_size, SvgTokenError)

    def decode_ids(self, ids: Iterable[int], level: int = 2) -> str:
        """SVG text of one id sequence (a prefix is fine); :class:`SvgTokenError` names a bad position."""
        atoms, where = self.atoms(ids, level)
        return atoms_to_svg(atoms, self.atom_vocab, self.colours, where)

    def decode(self, tokens: Tokens) -> list[str]:
        """One SVG document per sample."""
        level = tokens.meta.get("level", 2)
        expected = self.atom_vocab.size if level == 1 else self.vocab_size
        if tokens.layout != "seq1d" or tokens.vocab_size != expected:
            raise DataError(
                f"expected seq1d tokens over {expected} ids (level {level}), got {tokens.layout!r} over "
                f"{tokens.vocab_size}"
            )
        return [self.decode_ids(tokens.sample(i).tolist(), level) for i in range(len(tokens))]

    def allowed_next(self, prefix: Iterable[int], level: int = 2) -> torch.Tensor:
        """Boolean mask over the level-``level`` vocabulary: ids that keep ``prefix`` a valid SVG program."""
        atoms, where = self.atoms(prefix, level)
        parser = parse_atoms(atoms, self.atom_vocab, where)
        mask = parser.allowed()
        if level == 2:
            if "geometry" not in self._cache:
                self._cache["geometry"] = SegmentGeometry(self.table, self.atom_vocab)
            seg = np.zeros(self.cfg.num_segments, dtype=bool)
            ok = self._cache["geometry"].allowed(parser)
            seg[: len(ok)] = ok
            mask = np.concatenate([mask, seg])
        return torch.from_numpy(mask)

    # -- files --------------------------------------------------------------------------------------
    def example_input(self) -> list[str]:
        head = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">'
        return [
            f'{head}<path d="M2 2h20v20H2z" fill="#4caf50"/><circle cx="12" cy="12" r="5" fill="#fff"/></svg>',
            f'{head}<path d="M4 20L12 4L20 20" fill="none" stroke="#222" stroke-width="1.5"/></svg>',
        ]

    def load_file(self, path: Path) -> list[Path]:
        """A batch of one SVG file, read by ``encode`` (so that its errors name the file)."""
        return [Path(path)]

    def save_file(self, data: str, path: Path) -> None:
        atomic_write_bytes(path, data.encode("utf-8"))


for _grid in (256, 128):
    register_preset(
        f"svg-hivg-{_grid}", HiVGTokenizer, SvgConfig(grid=_grid),
        f"HiVG SVG tokens on a {_grid} grid: atoms + up to 4096 BPE segment tokens (learn with fit).",
    )  # fmt: skip
