"""Adjacent mesh tokenization (MeshAnything V2: "Artist-Created Mesh Generation With Adjacent Mesh
Tokenization", 2024).

Faces are walked as strips: after a face, if an unvisited face shares the edge formed by the last two
vertices written, only its third vertex is written (3 tokens instead of 9); otherwise a restart token
``&`` is written and the next strip starts with a full face. To keep each face's orientation exact, the
strip alternates winding like an OpenGL triangle strip: face ``j`` of a strip ``s`` is
``(s[j], s[j+1], s[j+2])`` for even ``j`` and ``(s[j+1], s[j], s[j+2])`` for odd ``j``, and a neighbour is
taken only if its orientation matches (on a consistently oriented mesh every neighbour does). Strips
start at the lowest unvisited face in canonical order, rotated to the corner that gives the longest strip.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from tokzoo.core.errors import DataError
from tokzoo.mesh.mesh import QuantizedMesh
from tokzoo.mesh.serialization import Serialization

__all__ = ["AdjacentSerialization"]


def _strips(faces: np.ndarray) -> list[int]:
    """Vertex indices of all strips, ``-1`` between strips."""
    edge_faces: dict[tuple[int, int], deque[int]] = {}
    rows = faces.tolist()
    for i, (a, b, c) in enumerate(rows):
        for edge in ((a, b), (b, c), (c, a)):
            edge_faces.setdefault(edge, deque()).append(i)
    visited = bytearray(len(rows))

    def walk(a: int, b: int, c: int, start: int, commit: bool) -> list[int]:
        """The vertices a strip from face ``start`` rotated to (a, b, c) writes after its first three."""
        taken = {start}
        added: list[int] = []
        w1, w2, j = b, c, 0
        while True:
            u, v = (w2, w1) if j % 2 == 0 else (w1, w2)  # face j + 1 is odd (reversed window) or even
            candidates = edge_faces.get((u, v), ())
            while candidates and visited[candidates[0]]:
                candidates.popleft()  # visited faces never come back: keeps non-manifold fans linear
            g = next((g for g in candidates if g not in taken), -1)
            if g < 0:
                return added
            x, y, z = rows[g]
            d = z if (x, y) == (u, v) else x if (y, z) == (u, v) else y
            added.append(d)
            taken.add(g)
            if commit:
                visited[g] = 1
            w1, w2, j = w2, d, j + 1

    out: list[int] = []
    start = 0
    while True:
        while start < len(rows) and visited[start]:
            start += 1
        if start == len(rows):
            return out
        a, b, c = rows[start]
        rotations = ((a, b, c), (b, c, a), (c, a, b))
        best = max(rotations, key=lambda r: len(walk(*r, start, commit=False)))
        visited[start] = 1
        out += ([-1] if out else []) + list(best) + walk(*best, start, commit=True)


class AdjacentSerialization(Serialization):
    """Vocabulary: the ``2**bits`` coordinate values, then the restart token."""

    name = "amt"

    @property
    def vocab_size(self) -> int:
        return 2**self.bits + 1

    @property
    def restart(self) -> int:
        return 2**self.bits

    def encode(self, mesh: QuantizedMesh) -> np.ndarray:
        seq = np.asarray(_strips(mesh.faces), dtype=np.int64)
        coords = mesh.vertices[np.maximum(seq, 0)]
        coords[seq < 0] = [self.restart, -1, -1]
        flat = coords.reshape(-1)
        return flat[flat >= 0]

    def _triangles(self, ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
        arr = np.asarray(ids, dtype=np.int64)
        cuts = np.flatnonzero(arr == self.restart)
        starts = np.concatenate([[0], cuts + 1])
        ends = np.concatenate([cuts, [len(arr)]])
        tris, positions = [], []
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
            n = e - s
            if n % 3:
                raise DataError(f"token {e - n % 3}: incomplete vertex ({n % 3} of 3 coordinates)")
            if n < 9:
                raise DataError(f"token {e}: a strip needs at least 3 vertices, got {n // 3}")
            verts = arr[s:e].reshape(-1, 3)
            j = np.arange(len(verts) - 2)
            odd = j % 2 == 1
            first = np.where(odd, j + 1, j)
            second = np.where(odd, j, j + 1)
            tris.append(np.stack([verts[first], verts[second], verts[j + 2]], axis=1))
            positions.append(s + 3 * (j + 2) + 2)
        return np.concatenate(tris), np.concatenate(positions)
