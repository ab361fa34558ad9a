"""``text-bytes``: one token per UTF-8 byte (vocabulary 256), lossless for any byte string.

The byte baseline of "Byte Latent Transformer: Patches Scale Better Than Tokens" (Pagnoni et al., 2024) and
"MEGABYTE: Predicting Million-byte Sequences with Multiscale Transformers" (Yu et al., 2023): no vocabulary to
learn, 8 bits per byte before any modelling.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from tokzoo.core.errors import DataError
from tokzoo.core.presets import register_preset
from tokzoo.core.tokens import Tokens
from tokzoo.text.codec import TextCodec, ids_to_tokens
from tokzoo.text.source import TextSource, as_bytes, batch_of

__all__ = ["ByteConfig", "ByteTokenizer"]


@dataclass
class ByteConfig:
    """No options: the vocabulary is the 256 byte values."""


class ByteTokenizer(TextCodec):
    """Text ↔ its UTF-8 bytes; invalid UTF-8 round-trips through ``surrogateescape`` (see :mod:`.source`)."""

    @property
    def vocab_size(self) -> int:
        return 256

    def encode(self, x: Sequence[TextSource] | TextSource, *, num_tokens: int | None = None) -> Tokens:
        self._no_count(num_tokens)
        seqs = [np.frombuffer(as_bytes(item), dtype=np.uint8) for item in batch_of(x)]
        return ids_to_tokens(seqs, 256, {"tokenizer": self.registry_name})

    @property
    def pieces(self) -> list[bytes | None]:
        """The bytes of each id."""
        return [bytes([i]) for i in range(256)]

    def token_lengths(self, ids: Sequence[int]) -> np.ndarray:
        """Bytes each token stands for: 1."""
        return np.ones(len(ids), dtype=np.int64)

    def decode_bytes(self, tokens: Tokens) -> list[bytes]:
        """The exact bytes of each sample."""
        if tokens.layout != "seq1d" or tokens.vocab_size != 256:
            raise DataError(
                f"expected seq1d tokens over 256 byte ids, got {tokens.layout!r} over {tokens.vocab_size}"
            )
        return [tokens.sample(i).to(torch.uint8).numpy().tobytes() for i in range(len(tokens))]

    def decode(self, tokens: Tokens) -> list[str]:
        """One ``str`` per sample (invalid UTF-8 as surrogate escapes, so ``save_file`` writes the same bytes)."""
        return [b.decode("utf-8", "surrogateescape") for b in self.decode_bytes(tokens)]


register_preset(
    "text-bytes", ByteTokenizer, ByteConfig(), "Text as UTF-8 bytes (256 ids), exact for any byte string."
)
