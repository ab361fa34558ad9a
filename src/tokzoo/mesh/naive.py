"""Naive serialization: nine coordinate tokens per face, faces in canonical order.

The baseline of PolyGen ("PolyGen: An Autoregressive Generative Model of 3D Meshes", 2020) and MeshGPT
("MeshGPT: Generating Triangle Meshes with Decoder-Only Transformers", 2023): vertices sorted by (z, y, x),
each face starting at its lowest vertex, faces sorted; every face written as (x, y, z) of its three corners.
"""

from __future__ import annotations

import numpy as np

from tokzoo.core.errors import DataError
from tokzoo.mesh.mesh import QuantizedMesh
from tokzoo.mesh.serialization import Serialization

__all__ = ["NaiveSerialization"]


class NaiveSerialization(Serialization):
    """Vocabulary: the ``2**bits`` coordinate values."""

    name = "naive"

    @property
    def vocab_size(self) -> int:
        return 2**self.bits

    def encode(self, mesh: QuantizedMesh) -> np.ndarray:
        return mesh.triangles().reshape(-1).astype(np.int64)

    def _triangles(self, ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
        if len(ids) % 9:
            raise DataError(
                f"token {len(ids) - len(ids) % 9}: incomplete face ({len(ids) % 9} of 9 coordinates)"
            )
        tris = np.asarray(ids, dtype=np.int64).reshape(-1, 3, 3)
        return tris, np.arange(8, len(ids), 9)
