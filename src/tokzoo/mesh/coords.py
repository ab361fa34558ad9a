"""Block/offset coordinate indexing (BPT: "Scaling Mesh Generation via Compressive Tokenization", 2024/2025).

A vertex on a ``2**bits`` grid is split into the block it lies in (``2**block_bits`` blocks per axis) and its
offset inside that block (``2**(bits - block_bits)`` per axis). Each is one token, and a block token can be
left out when the previous vertex lies in the same block, so nearby vertices cost one token.
"""

from __future__ import annotations

import numpy as np

from tokzoo.core.errors import ConfigError

__all__ = ["BlockCoder"]


class BlockCoder:
    """Maps grid vertices to (block id, offset id) pairs and back."""

    def __init__(self, bits: int, block_bits: int | None = None) -> None:
        block_bits = bits // 2 if block_bits is None else block_bits
        if type(block_bits) is not int or not 1 <= block_bits < bits:
            raise ConfigError(
                f"block_bits must be an integer in [1, {bits - 1}] for {bits}-bit vertices, got {block_bits!r}"
            )
        self.bits, self.block_bits, self.offset_bits = bits, block_bits, bits - block_bits
        self.num_blocks = 2 ** (3 * block_bits)
        self.num_offsets = 2 ** (3 * self.offset_bits)

    def split(self, vertices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, 3) grid vertices -> (block ids, offset ids), each (N,)."""
        v = np.asarray(vertices, dtype=np.int64)
        hi, lo = v >> self.offset_bits, v & (2**self.offset_bits - 1)
        b, o = self.block_bits, self.offset_bits
        return (hi[:, 0] << 2 * b) | (hi[:, 1] << b) | hi[:, 2], (lo[:, 0] << 2 * o) | (lo[:, 1] << o) | lo[
            :, 2
        ]

    def block_of(self, vertex: tuple[int, int, int]) -> int:
        """The block id of one (x, y, z) grid vertex."""
        o, b = self.offset_bits, self.block_bits
        return ((vertex[0] >> o) << 2 * b) | ((vertex[1] >> o) << b) | (vertex[2] >> o)

    def join(self, block: int, offset: int) -> tuple[int, int, int]:
        """One (block id, offset id) pair -> its (x, y, z) grid vertex."""
        b, o = self.block_bits, self.offset_bits
        bm, om = 2**b - 1, 2**o - 1
        return (
            ((block >> 2 * b) << o) | (offset >> 2 * o),
            (((block >> b) & bm) << o) | ((offset >> o) & om),
            ((block & bm) << o) | (offset & om),
        )
