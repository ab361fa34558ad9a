"""``QuantizedMesh``: a triangle mesh on an integer grid, kept in one canonical form.

Canonical form (the order PolyGen / MeshGPT use): unique vertices sorted by (z, y, x); every face rotated
so that its smallest vertex index comes first (its orientation is kept); faces unique and sorted.
Two meshes hold the same set of quantized triangles exactly when their canonical arrays are equal.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tokzoo.core.errors import DataError

__all__ = ["QuantizedMesh", "canonicalize"]


def _rotate_min_first(faces: np.ndarray) -> np.ndarray:
    """Rotate each row (a, b, c) cyclically so that its smallest entry comes first."""
    shift = np.argmin(faces, axis=1)
    cols = (np.arange(3)[None, :] + shift[:, None]) % 3
    return np.take_along_axis(faces, cols, axis=1)


def canonicalize(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Canonical ``(vertices, faces, duplicate_faces)`` of an integer mesh.

    Merges equal vertices, drops vertices no face uses, rotates and sorts faces and drops repeated faces
    (same vertices in the same cyclic order). Faces must already be non-degenerate.
    """
    vertices = np.asarray(vertices, dtype=np.int64).reshape(-1, 3)
    faces = np.asarray(faces, dtype=np.int64).reshape(-1, 3)
    if len(faces) == 0:
        return np.zeros((0, 3), np.int64), np.zeros((0, 3), np.int64), 0
    used = np.unique(faces)
    uniq, inverse = np.unique(vertices[used][:, ::-1], axis=0, return_inverse=True)  # (z, y, x) order
    remap = np.empty(int(used.max()) + 1, dtype=np.int64)
    remap[used] = inverse.reshape(-1)
    faces = _rotate_min_first(remap[faces])
    unique_faces = np.unique(faces, axis=0)  # lexicographic sort
    return np.ascontiguousarray(uniq[:, ::-1]), unique_faces, len(faces) - len(unique_faces)


@dataclass(eq=False)
class QuantizedMesh:
    """Integer vertices in ``[0, 2**bits)`` and triangle faces, in canonical form.

    ``origin`` and ``scale`` map grid coordinates back to the source's units:
    ``world = origin + scale * q / (2**bits - 1)`` (see :meth:`world_vertices`).
    """

    vertices: np.ndarray
    faces: np.ndarray
    bits: int
    origin: tuple[float, float, float] = (0.0, 0.0, 0.0)
    scale: float = 1.0
    name: str = field(default="mesh")

    @classmethod
    def from_arrays(cls, vertices: np.ndarray, faces: np.ndarray, bits: int, **kwargs) -> QuantizedMesh:
        """Build from integer vertices in ``[0, 2**bits)`` and faces with three distinct corners, canonicalised."""
        v = np.asarray(vertices, dtype=np.int64).reshape(-1, 3)
        f = np.asarray(faces, dtype=np.int64).reshape(-1, 3)
        if v.size and (v.min() < 0 or v.max() >= 2**bits):
            raise DataError(f"vertex coordinates must lie in [0, {2**bits}) for {bits}-bit grid meshes")
        if f.size and (f.min() < 0 or f.max() >= len(v)):
            raise DataError(f"a face refers to a vertex outside [0, {len(v)})")
        corners = v[f]
        if (corners[:, [0, 1, 2]] == corners[:, [1, 2, 0]]).all(axis=2).any():
            raise DataError("a face has two corners on the same grid point (degenerate)")
        v, f, _ = canonicalize(v, f)
        return cls(v, f, bits, **kwargs)

    @classmethod
    def from_triangles(cls, triangles: np.ndarray, bits: int, positions: np.ndarray) -> QuantizedMesh:
        """Build from decoded (F, 3, 3) corner coordinates; ``positions[i]`` is the token that closed face i.

        A decoder only produces what an encoder could have written: a face with a repeated corner or a face
        given twice is a DataError naming the token position.
        """
        tris = np.asarray(triangles, dtype=np.int64).reshape(-1, 3, 3)
        positions = np.asarray(positions, dtype=np.int64).reshape(-1)
        same = (tris[:, [0, 1, 2]] == tris[:, [1, 2, 0]]).all(axis=2).any(axis=1)
        if same.any():
            raise DataError(f"token {int(positions[np.argmax(same)])}: face with a repeated vertex")
        vertices, inverse = np.unique(tris.reshape(-1, 3), axis=0, return_inverse=True)
        faces = _rotate_min_first(inverse.reshape(-1, 3))
        _, first, counts = np.unique(faces, axis=0, return_index=True, return_counts=True)
        if (counts > 1).any():
            seen = np.zeros(len(faces), bool)
            seen[first] = True
            raise DataError(f"token {int(positions[np.argmax(~seen)])}: face already decoded earlier")
        return cls.from_arrays(vertices, faces, bits)

    @property
    def num_faces(self) -> int:
        return len(self.faces)

    def triangles(self) -> np.ndarray:
        """(F, 3, 3) integer corner coordinates of every face, in canonical order."""
        return self.vertices[self.faces]

    def same_triangles(self, other: QuantizedMesh) -> bool:
        """Whether both hold the same set of quantized triangles (face rotation ignored, orientation kept)."""
        return (
            self.bits == other.bits
            and np.array_equal(self.vertices, other.vertices)
            and np.array_equal(self.faces, other.faces)
        )

    def world_vertices(self) -> np.ndarray:
        """Float vertices in the source's units."""
        step = self.scale / (2**self.bits - 1)
        return np.asarray(self.origin, dtype=np.float64) + self.vertices.astype(np.float64) * step
