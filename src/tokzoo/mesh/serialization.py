"""The interface every mesh serialization implements: grid mesh <-> flat id sequence, exactly."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np

from tokzoo.core.errors import DataError
from tokzoo.mesh.mesh import QuantizedMesh

__all__ = ["Serialization"]


class Serialization(ABC):
    """A lossless map between a :class:`QuantizedMesh` on a ``2**bits`` grid and ids in ``[0, vocab_size)``.

    ``decode(encode(m))`` holds the same set of triangles as ``m`` (each face's orientation kept); ``decode``
    of any other id sequence gives a valid mesh or raises DataError naming the token position.
    """

    name: ClassVar[str]

    def __init__(self, bits: int) -> None:
        self.bits = bits

    @property
    @abstractmethod
    def vocab_size(self) -> int:
        """Number of distinct ids."""

    @abstractmethod
    def encode(self, mesh: QuantizedMesh) -> np.ndarray:
        """The mesh as a 1-D int64 id array."""

    @abstractmethod
    def _triangles(self, ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """(F, 3, 3) corner coordinates of the decoded faces and, per face, the token that closed it."""

    def decode(self, ids: np.ndarray) -> QuantizedMesh:
        """The mesh an id sequence describes; DataError for a sequence no encoder writes."""
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if len(ids) == 0:
            raise DataError("empty token sequence: a mesh needs at least one face")
        bad = (ids < 0) | (ids >= self.vocab_size)
        if bad.any():
            i = int(np.argmax(bad))
            raise DataError(f"token {i}: id {int(ids[i])} is outside the vocabulary [0, {self.vocab_size})")
        triangles, positions = self._triangles(ids.tolist())
        if len(triangles) == 0:
            raise DataError(f"token {len(ids) - 1}: the sequence ends before its first face")
        return QuantizedMesh.from_triangles(triangles, self.bits, positions)
