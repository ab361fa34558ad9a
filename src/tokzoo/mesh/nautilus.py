"""Nautilus-style shell serialization, written from the description in "Nautilus: Locality-aware
Autoencoder for Scalable Mesh Generation" (2025).

The paper organises faces in shells, each a central vertex with the ordered sequence of its surrounding
vertices, traversed so that neighbouring shells stay close in the sequence and locally shared vertices and
edges are not written twice. This implementation (not the authors' code, which is not public) makes that
concrete as follows:

- shells are fans (:mod:`tokzoo.mesh.fans`) holding all uncovered faces around their centre;
- the next centre is a vertex of the last shell's ring (the one with the most uncovered faces), else of the
  recently written vertices, else the vertex with the most uncovered faces anywhere (a new part);
- a vertex among the ``cache_size`` most recently written ones is one reference token (its position in that
  move-to-front list) instead of its coordinates; other vertices use BPT's block/offset tokens;
- shared edges cost nothing: faces already written never appear again, so a shell next to the previous one
  only writes the faces the previous shells left.

Vocabulary: ``[offsets | blocks | centre blocks | references | centre references]``; centre tokens mark
where a shell begins.
"""

from __future__ import annotations

import numpy as np

from tokzoo.core.errors import ConfigError, DataError
from tokzoo.mesh.coords import BlockCoder
from tokzoo.mesh.fans import FanCover, rotate_closed
from tokzoo.mesh.mesh import QuantizedMesh
from tokzoo.mesh.serialization import Serialization

__all__ = ["NautilusSerialization"]


def _touch(cache: list, item: object, size: int) -> None:
    """Move ``item`` to the front of the move-to-front ``cache`` (at most ``size`` entries)."""
    if item in cache:
        cache.remove(item)
    cache.insert(0, item)
    del cache[size:]


class NautilusSerialization(Serialization):
    """Locality-ordered shells with references to recently written vertices."""

    name = "nautilus"

    def __init__(self, bits: int, block_bits: int | None = None, cache_size: int = 64) -> None:
        super().__init__(bits)
        if type(cache_size) is not int or not 1 <= cache_size <= 4096:
            raise ConfigError(f"cache_size must be an integer in [1, 4096], got {cache_size!r}")
        self.coder = BlockCoder(bits, block_bits)
        self.cache_size = cache_size
        self.block0 = self.coder.num_offsets
        self.centre0 = self.block0 + self.coder.num_blocks
        self.ref0 = self.centre0 + self.coder.num_blocks
        self.centre_ref0 = self.ref0 + cache_size

    @property
    def vocab_size(self) -> int:
        return self.centre_ref0 + self.cache_size

    def encode(self, mesh: QuantizedMesh) -> np.ndarray:
        blocks, offsets = (a.tolist() for a in self.coder.split(mesh.vertices))
        cover = FanCover(mesh.faces, len(mesh.vertices))
        cache: list[int] = []
        out: list[int] = []
        prev_block = -1
        ring: list[int] = []

        def write(v: int, is_centre: bool) -> None:
            nonlocal prev_block
            if v in cache:
                out.append((self.centre_ref0 if is_centre else self.ref0) + cache.index(v))
            else:
                if is_centre or blocks[v] != prev_block:
                    out.append((self.centre0 if is_centre else self.block0) + blocks[v])
                out.append(offsets[v])
            prev_block = blocks[v]
            _touch(cache, v, self.cache_size)

        while cover.remaining:
            near = [v for v in ring if cover.degree[v]] or [v for v in cache if cover.degree[v]]
            centre = max(near, key=cover.degree.__getitem__) if near else cover.highest_degree()
            for fan in cover.take_fans(centre):
                # a closed ring starts where its first vertex costs one token (recent, or in the centre's block)
                ring = rotate_closed(fan, lambda v, c=centre: v not in cache and blocks[v] != blocks[c])
                write(centre, True)
                for v in ring:
                    write(v, False)
        return np.asarray(out, dtype=np.int64)

    def _triangles(self, ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
        tris: list[tuple] = []
        positions: list[int] = []
        cache: list[tuple[int, int, int]] = []
        centre = None
        ring_len = 0
        prev: tuple[int, int, int] | None = None
        block = pending = None  # block of the last vertex; block token waiting for its offset
        pending_centre = False
        for pos, t in enumerate(ids):
            if self.block0 <= t < self.ref0:  # a block token: an offset must follow
                if pending is not None:
                    raise DataError(f"token {pos}: block token at {pos - 1} is not followed by an offset")
                is_centre = t >= self.centre0
                if not is_centre and centre is None:
                    raise DataError(f"token {pos}: a sequence must start with a centre token")
                pending, pending_centre = t - (self.centre0 if is_centre else self.block0), is_centre
                continue
            if t >= self.ref0:
                if pending is not None:
                    raise DataError(f"token {pos}: block token at {pos - 1} is not followed by an offset")
                is_centre = t >= self.centre_ref0
                index = t - (self.centre_ref0 if is_centre else self.ref0)
                if index >= len(cache):
                    raise DataError(
                        f"token {pos}: refers to recent vertex {index}, only {len(cache)} written so far"
                    )
                v = cache[index]
            else:
                if pending is None and block is None:
                    raise DataError(f"token {pos}: a sequence must start with a centre token")
                is_centre = pending is not None and pending_centre
                block = pending if pending is not None else block
                pending = None
                v = self.coder.join(block, t)
            if is_centre:
                if centre is not None and ring_len < 2:
                    raise DataError(f"token {pos}: the shell before has {ring_len} ring vertices, needs 2")
                centre, ring_len, prev = v, 0, None
            elif centre is None:
                raise DataError(f"token {pos}: a sequence must start with a centre token")
            else:
                if prev is not None:
                    tris.append((centre, prev, v))
                    positions.append(pos)
                prev, ring_len = v, ring_len + 1
            block = self.coder.block_of(v)
            _touch(cache, v, self.cache_size)
        if pending is not None:
            raise DataError(f"token {len(ids)}: the sequence ends after a block token")
        if centre is None or ring_len < 2:
            raise DataError(f"token {len(ids)}: the last shell has {ring_len} ring vertices, needs 2")
        return np.asarray(tris, dtype=np.int64).reshape(-1, 3, 3), np.asarray(positions)
