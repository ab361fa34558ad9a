"""``MeshTokenizer``: triangle meshes through the common ``Tokenizer`` / ``Tokens`` API, losslessly.

``encode`` takes a batch (a list) of meshes: :class:`~tokzoo.mesh.io.RawMesh` (what ``load_file`` reads),
``trimesh.Trimesh``, anything with ``vertices`` and ``faces``, ``(vertices, faces)`` pairs, or
:class:`QuantizedMesh` on the tokenizer's grid. Each is quantized (:func:`quantize_mesh`), serialized, and
the batch becomes right-padded ``seq1d`` ``Tokens`` whose ``meta`` holds each mesh's grid placement
(``origins``, ``scales``) so that ``decode`` gives the meshes back in their source units, and what
quantization changed in each (``reports``: :class:`MeshReport` dicts). The quantized
triangles survive ``decode(encode(x))`` exactly; the only loss is the quantization itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tokzoo.core.errors import ConfigError, DataError
from tokzoo.core.presets import register_preset
from tokzoo.core.tokenizer import Tokenizer
from tokzoo.core.tokens import Tokens
from tokzoo.mesh.adjacent import AdjacentSerialization
from tokzoo.mesh.io import RawMesh, read_mesh, write_mesh
from tokzoo.mesh.mesh import QuantizedMesh
from tokzoo.mesh.naive import NaiveSerialization
from tokzoo.mesh.nautilus import NautilusSerialization
from tokzoo.mesh.patchified import PatchifiedSerialization
from tokzoo.mesh.prepare import MeshReport, check_bits, quantize_mesh
from tokzoo.mesh.serialization import Serialization

__all__ = ["SERIALIZATIONS", "MeshConfig", "MeshTokenizer"]

log = logging.getLogger("tokzoo.mesh")

SERIALIZATIONS = ("naive", "amt", "bpt", "nautilus")
_TITLES = {
    "naive": "9 coordinates per face",
    "amt": "adjacent strips (MeshAnything V2)",
    "bpt": "patches + block/offset (BPT)",
    "nautilus": "locality-ordered shells (Nautilus-style)",
}


@dataclass
class MeshConfig:
    """``serialization``: one of naive, amt, bpt, nautilus; ``bits``: grid bits per axis (7-10);
    ``block_bits``: block index bits per axis for bpt/nautilus (None: bits // 2); ``cache_size``: recent
    vertices nautilus can refer to; ``max_faces``: larger meshes are refused (DataError) before any work."""

    serialization: str = "amt"
    bits: int = 7
    block_bits: int | None = None
    cache_size: int = 64
    max_faces: int = 200_000


def build_serialization(cfg: MeshConfig) -> Serialization:
    """The serialization ``cfg`` names, with its options checked (ConfigError)."""
    bits = check_bits(cfg.bits)
    if cfg.serialization == "naive":
        return NaiveSerialization(bits)
    if cfg.serialization == "amt":
        return AdjacentSerialization(bits)
    if cfg.serialization == "bpt":
        return PatchifiedSerialization(bits, cfg.block_bits)
    if cfg.serialization == "nautilus":
        return NautilusSerialization(bits, cfg.block_bits, cfg.cache_size)
    raise ConfigError(
        f"unknown mesh serialization {cfg.serialization!r}; choose one of {', '.join(SERIALIZATIONS)}"
    )


class MeshTokenizer(Tokenizer):
    """Deterministic, weight-free mesh tokenizer; the serialization is chosen by ``cfg.serialization``."""

    modality = "mesh"

    def __init__(self, cfg: MeshConfig) -> None:
        super().__init__(cfg)
        if type(cfg.max_faces) is not int or cfg.max_faces < 1:
            raise ConfigError(f"max_faces must be a positive integer, got {cfg.max_faces!r}")
        self.serialization = build_serialization(cfg)

    @property
    def vocab_size(self) -> int:
        return self.serialization.vocab_size

    def quantize(self, item: Any) -> tuple[QuantizedMesh, MeshReport | None]:
        """One mesh on this tokenizer's grid, and what quantization changed (None if it was already on it)."""
        if isinstance(item, QuantizedMesh):
            if item.bits != self.cfg.bits:
                raise DataError(
                    f"{item.name}: quantized to {item.bits} bits, this tokenizer uses {self.cfg.bits}"
                )
            if len(item.faces) > self.cfg.max_faces:
                raise DataError(
                    f"{item.name}: {len(item.faces):,} faces is more than max_faces={self.cfg.max_faces:,}"
                )
            checked = QuantizedMesh.from_arrays(
                item.vertices, item.faces, item.bits
            )  # validate, canonicalise
            checked.origin, checked.scale, checked.name = item.origin, item.scale, item.name
            return checked, None
        if isinstance(item, tuple) and len(item) == 2:
            vertices, faces, name = item[0], item[1], "mesh"
        elif hasattr(item, "vertices") and hasattr(item, "faces"):
            vertices, faces = item.vertices, item.faces
            name = item.name if isinstance(item, RawMesh) else "mesh"
        else:
            raise DataError(f"cannot tokenize a {type(item).__name__}: expected a mesh (vertices, faces)")
        mesh, report = quantize_mesh(vertices, faces, self.cfg.bits, name=name, max_faces=self.cfg.max_faces)
        if report.changed:
            log.info("%s", report)
        return mesh, report

    def encode(self, x: Any, *, num_tokens: int | None = None) -> Tokens:
        """Tokens of a batch of meshes (a single mesh object counts as a batch of one)."""
        if num_tokens is not None:
            raise ConfigError(
                "mesh tokenizers are lossless: the token count follows from the mesh, not num_tokens"
            )
        items = list(x) if isinstance(x, list) else [x]
        if not items:
            raise DataError("empty batch: nothing to encode")
        quantized = [self.quantize(item) for item in items]
        meshes = [m for m, _ in quantized]
        seqs = [torch.from_numpy(self.serialization.encode(m)) for m in meshes]
        lengths = torch.tensor([len(s) for s in seqs], dtype=torch.int64)
        ids = torch.zeros((len(seqs), int(lengths.max())), dtype=torch.int64)
        for i, s in enumerate(seqs):
            ids[i, : len(s)] = s
        meta = {
            "tokenizer": self.registry_name,
            "serialization": self.cfg.serialization,
            "bits": self.cfg.bits,
            "origins": [list(m.origin) for m in meshes],
            "scales": [m.scale for m in meshes],
            # What quantization changed in each input (MeshReport.as_dict; None if it was already on the grid).
            "reports": [r.as_dict() if r is not None else None for _, r in quantized],
        }
        return Tokens(ids, lengths, self.vocab_size, "seq1d", (), meta)

    def decode(self, tokens: Tokens) -> list[QuantizedMesh]:
        """The quantized meshes, placed back in their source units when ``tokens.meta`` says where."""
        if tokens.vocab_size != self.vocab_size:
            raise DataError(
                f"tokens have a vocabulary of {tokens.vocab_size}, this {self.cfg.serialization} tokenizer "
                f"({self.cfg.bits} bits) has {self.vocab_size}"
            )
        made_by = tokens.meta.get("serialization", self.cfg.serialization)
        if made_by != self.cfg.serialization:
            raise DataError(
                f"tokens were written by the {made_by!r} serialization, not {self.cfg.serialization!r}"
            )
        origins, scales = _placements(tokens)
        out = []
        for i in range(tokens.batch_size):
            try:
                mesh = self.serialization.decode(tokens.sample(i).cpu().numpy())
            except DataError as e:
                raise DataError(f"sample {i}: {e}") from None
            mesh.origin, mesh.scale, mesh.name = origins[i], scales[i], f"sample{i}"
            out.append(mesh)
        return out

    def example_input(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """A tetrahedron and a unit cube."""
        tetra = (
            np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], float),
            np.array([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]]),
        )
        corners = np.array([[x, y, z] for x in (0, 1) for y in (0, 1) for z in (0, 1)], float)
        quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
        cube = np.array([t for a, b, c, d in quads for t in ((a, b, c), (a, c, d))])
        return [tetra, (corners, cube)]

    def load_file(self, path: Path) -> list[RawMesh]:
        """Read an OBJ/PLY/STL/OFF file as a batch of one."""
        return [read_mesh(path)]

    def save_file(self, data: QuantizedMesh, path: Path) -> None:
        """Write a decoded mesh as OBJ or PLY (by suffix), in its source units."""
        write_mesh(data, path)


def _placements(tokens: Tokens) -> tuple[list[tuple[float, float, float]], list[float]]:
    """Per-sample (origin, scale) from ``meta``; the unit cube when absent; DataError when malformed."""
    n = tokens.batch_size
    origins, scales = tokens.meta.get("origins"), tokens.meta.get("scales")
    if origins is None and scales is None:
        return [(0.0, 0.0, 0.0)] * n, [1.0] * n
    try:
        placed = [(tuple(float(c) for c in o), float(s)) for o, s in zip(origins, scales, strict=True)]
    except (TypeError, ValueError) as e:
        raise DataError(f"tokens meta: malformed origins/scales ({e})") from None
    if len(placed) != n or any(len(o) != 3 or not s > 0 for o, s in placed):
        raise DataError(
            f"tokens meta: origins/scales must give 3 coordinates and a positive scale for each of {n} samples"
        )
    return [o for o, _ in placed], [s for _, s in placed]


for _name in SERIALIZATIONS:
    register_preset(
        f"mesh-{_name}-q7", MeshTokenizer, MeshConfig(serialization=_name),
        f"Triangle meshes, {_TITLES[_name]}, lossless on a 7-bit grid (bits=7..10)",
    )  # fmt: skip
