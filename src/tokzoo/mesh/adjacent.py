"""Adjacent mesh tokenization (MeshAnything V2: "Artist-Created Mesh Generation With Adjacent Mesh
Tokenization", 2024).

Faces are walked as strips. After a face, if an unvisited face shares the edge formed by the last two
vertices written, only its third vertex is written (3 tokens instead of 9); if instead one shares the
other edge through the newest vertex, a swap token ``$`` and its third vertex are written; otherwise a
restart token ``&`` is written and the next strip starts with a full face.

Orientation is exact: the decoder knows the directed edge the next face must contain (the reverse of how
the last face holds the shared edge, as in any consistently oriented mesh) and builds the face as
``(u, v, new)`` from it; a neighbour with the other orientation is not taken (the strip restarts there).
Strips start at the lowest unvisited face in canonical order, rotated to the corner that gives the
longest strip (fewest swaps on ties).
"""

from __future__ import annotations

from collections import deque

import numpy as np

from tokzoo.core.errors import DataError
from tokzoo.mesh.mesh import QuantizedMesh
from tokzoo.mesh.serialization import Serialization

__all__ = ["AdjacentSerialization"]

_RESTART, _SWAP = -1, -2  # markers in the vertex sequence


def _next_edges(u: int, v: int, d: int, newer_is_u: bool) -> tuple[tuple[int, int], tuple[int, int]]:
    """For the face (u, v, d) just written: the directed edges the next face holds, default then swapped.

    The default edge joins ``d`` to the newer of u and v (the last two vertices written), the swapped one to
    the older; the next face holds it reversed: (d, v) for the edge v -> d, (u, d) for the edge d -> u.
    """
    with_u, with_v = (u, d), (d, v)
    return (with_u, with_v) if newer_is_u else (with_v, with_u)


def _strip_score(added: list[int]) -> tuple[int, int]:
    """Rank strips: most faces first, then fewest swap tokens."""
    swaps = added.count(_SWAP)
    return len(added) - swaps, -swaps


def _strips(faces: np.ndarray) -> list[int]:
    """Vertex indices of all strips, with ``_RESTART`` between strips and ``_SWAP`` before swapped faces."""
    edge_faces: dict[tuple[int, int], deque[int]] = {}
    rows = faces.tolist()
    for i, (a, b, c) in enumerate(rows):
        for edge in ((a, b), (b, c), (c, a)):
            edge_faces.setdefault(edge, deque()).append(i)
    visited = bytearray(len(rows))

    def find(edge: tuple[int, int], taken: set[int]) -> int:
        candidates = edge_faces.get(edge, ())
        while candidates and visited[candidates[0]]:
            candidates.popleft()  # visited faces never come back: keeps non-manifold fans linear
        return next((g for g in candidates if g not in taken), -1)

    def walk(a: int, b: int, c: int, start: int, commit: bool) -> list[int]:
        """What a strip from face ``start`` rotated to (a, b, c) writes after its first three vertices."""
        taken = {start}
        added: list[int] = []
        u, v, d, newer_is_u = a, b, c, False
        while True:
            edges = _next_edges(u, v, d, newer_is_u)
            swap = 0 if find(edges[0], taken) >= 0 else 1
            (p, q), g = edges[swap], find(edges[swap], taken)
            if g < 0:
                return added
            x, y, z = rows[g]
            new = z if (x, y) == (p, q) else x if (y, z) == (p, q) else y
            added += [_SWAP, new] if swap else [new]
            taken.add(g)
            if commit:
                visited[g] = 1
            u, v, d, newer_is_u = p, q, new, p == d

    out: list[int] = []
    start = 0
    while True:
        while start < len(rows) and visited[start]:
            start += 1
        if start == len(rows):
            return out
        a, b, c = rows[start]
        rotations = ((a, b, c), (b, c, a), (c, a, b))
        best = max(rotations, key=lambda r: _strip_score(walk(*r, start, commit=False)))
        visited[start] = 1
        out += ([_RESTART] if out else []) + list(best) + walk(*best, start, commit=True)


class AdjacentSerialization(Serialization):
    """Vocabulary: the ``2**bits`` coordinate values, then ``&`` (restart) and ``$`` (swap)."""

    name = "amt"

    @property
    def vocab_size(self) -> int:
        return 2**self.bits + 2

    @property
    def restart(self) -> int:
        return 2**self.bits

    @property
    def swap(self) -> int:
        return 2**self.bits + 1

    def encode(self, mesh: QuantizedMesh) -> np.ndarray:
        out: list[int] = []
        coords = mesh.vertices.tolist()
        for v in _strips(mesh.faces):
            out += [self.restart] if v == _RESTART else [self.swap] if v == _SWAP else coords[v]
        return np.asarray(out, dtype=np.int64)

    def _triangles(self, ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
        tris: list[tuple] = []
        positions: list[int] = []
        strip: list[tuple[int, int, int]] = []  # vertices of the current strip so far (first three kept)
        state: tuple = ()  # (u, v, d, newer_is_u) of the last face
        swap_at = -1
        pos = 0
        n = len(ids)
        while pos < n:
            t = ids[pos]
            if t == self.restart:
                if len(strip) < 3 or swap_at >= 0:
                    raise DataError(
                        f"token {pos}: a strip needs 3 vertices before a restart (got {len(strip)})"
                    )
                strip, state = [], ()
                pos += 1
                continue
            if t == self.swap:
                if len(strip) < 3 or swap_at >= 0:
                    raise DataError(f"token {pos}: a swap needs a face before it and a vertex after it")
                swap_at = pos
                pos += 1
                continue
            vertex = tuple(ids[pos : pos + 3])
            if len(vertex) < 3 or any(c >= self.restart for c in vertex):
                raise DataError(f"token {pos}: incomplete vertex (a vertex is 3 coordinate tokens)")
            pos += 3
            if len(strip) < 2:
                strip.append(vertex)
                continue
            if len(strip) == 2:
                strip.append(vertex)
                a, b = strip[0], strip[1]
                tris.append((a, b, vertex))
                state = (a, b, vertex, False)
            else:
                p, q = _next_edges(*state)[1 if swap_at >= 0 else 0]
                tris.append((p, q, vertex))
                state = (p, q, vertex, p == state[2])
            positions.append(pos - 1)
            swap_at = -1
        if swap_at >= 0 or len(strip) < 3:
            raise DataError(f"token {n}: the sequence ends inside a strip (a swap or fewer than 3 vertices)")
        return np.asarray(tris, dtype=np.int64).reshape(-1, 3, 3), np.asarray(positions)
