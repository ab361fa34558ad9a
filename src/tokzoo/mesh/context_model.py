"""A context model over mesh token streams that drives tokzoo's arithmetic coder (``.tokc`` files).

The learned AR prior over mesh tokens must discover from a few hundred meshes that faces share vertices and
that consecutive vertices lie close together; it does not at that scale. This model is given that structure:
it parses the serialization's grammar causally (:mod:`tokzoo.mesh.context_streams`), keeps the faces decoded
so far, and codes each vertex as a copy of a decoded vertex (by adjacency and recency, as Edgebreaker's
connectivity coding exploits: Rossignac, 1999) or as new coordinates predicted by the parallelogram rule
("Triangle Mesh Compression", Touma & Gotsman, 1998) with adaptively mixed residual models
(:mod:`tokzoo.mesh.vertex_model`). Its statistics are fitted by running it over training meshes
(:meth:`MeshContextModel.fit`); each coded mesh then starts from a copy of them and adapts on its own, so every
mesh decodes independently of the others, like a Draco file. The fitted model is saved and loaded exactly
(:mod:`tokzoo.mesh.context_state`), so a decoder needs that folder, not the training meshes.

    model = MeshContextModel(tokenizer.serialization).fit(train_sequences)
    data, bits = compress(tokens, model)          # tokens: seq1d, one mesh per sample
    model.save("mesh-context/")
    assert decompress(data, MeshContextModel.load("mesh-context/")).equal(tokens)
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from tokzoo.core.errors import ConfigError, DataError
from tokzoo.mesh.context_state import load_stats, save_stats
from tokzoo.mesh.context_streams import make_stream
from tokzoo.mesh.serialization import Serialization
from tokzoo.mesh.tokenizer import MeshConfig, build_serialization
from tokzoo.mesh.vertex_model import MeshStats
from tokzoo.prior.coder import SymbolModel

__all__ = ["MeshContextModel"]


class MeshContextModel:
    """A :class:`~tokzoo.prior.container.CodingModel` for ``seq1d`` mesh tokens of ``serialization``.

    ``name`` (default ``mesh-context-<serialization>-q<bits>``) is written into ``.tokc`` headers; decoding
    needs the same fitted model: the one :meth:`save` wrote, or one fitted on the same meshes in the same order.
    """

    def __init__(self, serialization: Serialization, name: str | None = None) -> None:
        if not isinstance(serialization, Serialization):
            raise ValueError(
                f"no context model for a {type(serialization).__name__}: expected a serialization"
            )
        self.serialization = serialization
        make_stream(serialization, MeshStats(serialization.bits))  # refuses serializations it cannot model
        self.stats = MeshStats(serialization.bits)
        self.name = name or f"mesh-context-{serialization.name}-q{serialization.bits}"

    def fit(self, sequences: Iterable[np.ndarray]) -> MeshContextModel:
        """Learn the tables, mixers and residual scales from whole-mesh token sequences (in order)."""
        for i, ids in enumerate(sequences):
            stream = make_stream(self.serialization, self.stats)
            try:
                for s in np.asarray(ids, dtype=np.int64).reshape(-1).tolist():
                    stream.update(s)
            except DataError as e:
                raise DataError(f"training sequence {i}: {e}") from None
        return self

    def save(self, folder: str | Path) -> None:
        """Write the fitted model into ``folder`` (atomically): see :mod:`tokzoo.mesh.context_state`."""
        ser = self.serialization
        coder = getattr(ser, "coder", None)  # bpt / nautilus block coordinates
        header = {"serialization": ser.name, "name": self.name, "vocab_size": ser.vocab_size,
                  "block_bits": coder.block_bits if coder is not None else None,
                  "cache_size": getattr(ser, "cache_size", MeshConfig.cache_size)}  # fmt: skip
        save_stats(self.stats, folder, header)

    @classmethod
    def load(cls, folder: str | Path) -> MeshContextModel:
        """The model :meth:`save` wrote, with its serialization; DataError on a missing or damaged folder."""
        stats, doc = load_stats(folder)
        try:
            cfg = MeshConfig(doc["serialization"], doc["bits"], doc["block_bits"], doc["cache_size"])
            serialization = build_serialization(cfg)
            if serialization.vocab_size != doc["vocab_size"]:
                raise ValueError(f"vocabulary {serialization.vocab_size}, saved {doc['vocab_size']}")
        except (ConfigError, KeyError, TypeError, ValueError) as e:  # a foreign or edited file
            raise DataError(f"{folder}: bad serialization in the mesh context model ({e})") from None
        model = cls(serialization, name=str(doc["name"]))
        model.stats = stats
        return model

    def for_sample(self, layout: str, shape: tuple[int, ...], length: int) -> SymbolModel:
        """A fresh stream over a copy of the fitted statistics (samples code independently)."""
        if layout != "seq1d":
            raise ValueError(f"mesh context models code seq1d tokens, not {layout}")
        return make_stream(self.serialization, copy.deepcopy(self.stats))

    def order(self, layout: str, shape: tuple[int, ...], length: int) -> list[int]:
        """Stored order."""
        return list(range(length))
