"""Patchified serialization with block/offset indexing (BPT: "Scaling Mesh Generation via Compressive
Tokenization", 2024; used again by DeepMesh, 2025).

Repeatedly the vertex with the most uncovered faces becomes a patch centre, and all its uncovered faces are
written as fans: the centre, then its ordered ring of neighbours (a closed ring repeats its first vertex).
Each vertex is a block token (left out when the previous vertex lies in the same block) and an offset token;
the centre's block comes from a second set of block tokens, which marks where a patch begins.

Vocabulary: ``[offsets | blocks | centre blocks]``.
"""

from __future__ import annotations

import numpy as np

from tokzoo.core.errors import DataError
from tokzoo.mesh.coords import BlockCoder
from tokzoo.mesh.fans import FanCover, rotate_closed
from tokzoo.mesh.mesh import QuantizedMesh
from tokzoo.mesh.serialization import Serialization

__all__ = ["PatchifiedSerialization"]


class PatchifiedSerialization(Serialization):
    """BPT-style patches; ``block_bits`` per axis for the block index (default ``bits // 2``)."""

    name = "bpt"

    def __init__(self, bits: int, block_bits: int | None = None) -> None:
        super().__init__(bits)
        self.coder = BlockCoder(bits, block_bits)
        self.block0 = self.coder.num_offsets
        self.centre0 = self.block0 + self.coder.num_blocks

    @property
    def vocab_size(self) -> int:
        return self.centre0 + self.coder.num_blocks

    def encode(self, mesh: QuantizedMesh) -> np.ndarray:
        blocks, offsets = (a.tolist() for a in self.coder.split(mesh.vertices))
        cover = FanCover(mesh.faces, len(mesh.vertices))
        out: list[int] = []
        while cover.remaining:
            centre = cover.highest_degree()
            for fan in cover.take_fans(centre):
                ring = rotate_closed(fan, lambda v, c=centre: blocks[v] != blocks[c])  # save a block token
                out += [self.centre0 + blocks[centre], offsets[centre]]
                prev = blocks[centre]
                for v in ring:
                    if blocks[v] != prev:
                        out.append(self.block0 + blocks[v])
                        prev = blocks[v]
                    out.append(offsets[v])
        return np.asarray(out, dtype=np.int64)

    def _triangles(self, ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
        tris: list[tuple] = []
        positions: list[int] = []
        centre = None
        ring_len = 0
        prev: tuple[int, int, int] | None = None
        block = pending = None  # block of the last vertex; block token waiting for its offset
        for pos, t in enumerate(ids):
            if t >= self.block0:
                if pending is not None:
                    raise DataError(f"token {pos}: block token at {pos - 1} is not followed by an offset")
                if t >= self.centre0:
                    if centre is not None and ring_len < 2:
                        raise DataError(
                            f"token {pos}: the patch before has {ring_len} ring vertices, needs 2"
                        )
                    centre, ring_len, prev = None, 0, None
                    pending = t - self.centre0
                elif centre is None and ring_len == 0 and block is None:
                    raise DataError(f"token {pos}: a sequence must start with a centre block token")
                else:
                    pending = t - self.block0
                continue
            if pending is None and block is None:
                raise DataError(f"token {pos}: a sequence must start with a centre block token")
            block = pending if pending is not None else block
            pending = None
            v = self.coder.join(block, t)
            if centre is None:
                centre = v
                continue
            if prev is not None:
                tris.append((centre, prev, v))
                positions.append(pos)
            prev, ring_len = v, ring_len + 1
        if pending is not None:
            raise DataError(f"token {len(ids)}: the sequence ends after a block token")
        if centre is None or ring_len < 2:
            raise DataError(f"token {len(ids)}: the last patch has {ring_len} ring vertices, needs 2")
        return np.asarray(tris, dtype=np.int64).reshape(-1, 3, 3), np.asarray(positions)
