"""``TextCodec``: what every text tokenizer shares — files in and out, example input, id lists → ``Tokens``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from tokzoo.core.atomic import atomic_write_bytes
from tokzoo.core.errors import ConfigError
from tokzoo.core.tokenizer import Tokenizer
from tokzoo.core.tokens import Tokens

__all__ = ["EXAMPLE_TEXTS", "TextCodec", "ids_to_tokens"]

#: Two short texts with ASCII, accents, a combining mark, CJK and an emoji (the generic tests' input).
EXAMPLE_TEXTS = (
    "The licensee shall, pursuant to § 4(b), notify the licensor within thirty (30) days.",
    "Çocuklar bahçede oynuyorlar; cafe\u0301 naïve 東京 🙂.",
)


def ids_to_tokens(seqs: Sequence[Sequence[int]], vocab_size: int, meta: dict[str, Any]) -> Tokens:
    """A right-padded ``seq1d`` batch with one length per sample."""
    longest = max((len(s) for s in seqs), default=0)
    ids = torch.zeros((len(seqs), longest), dtype=torch.int64)
    for i, s in enumerate(seqs):
        if len(s):
            ids[i, : len(s)] = torch.from_numpy(np.asarray(s, dtype=np.int64))
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.int64)
    return Tokens(ids, lengths, vocab_size, "seq1d", (), meta)


class TextCodec(Tokenizer):
    """Base of the text tokenizers: ``encode`` takes a list of ``str``/``bytes``/paths, ``decode`` gives ``str``.

    Text is variable-length: the token count follows from the text (``num_tokens`` is refused).
    """

    modality: ClassVar[str] = "text"

    @staticmethod
    def _no_count(num_tokens: int | None) -> None:
        if num_tokens is not None:
            raise ConfigError("text tokenizers are variable-length: num_tokens cannot be set")

    def example_input(self) -> list[str]:
        return list(EXAMPLE_TEXTS)

    def load_file(self, path: Path) -> list[Path]:
        """A batch of one file, read by ``encode`` (so that its errors name the file; binary files refused)."""
        return [Path(path)]

    def save_file(self, item: str, path: Path) -> None:
        """Write decoded text back as the bytes it came from (UTF-8, surrogateescape)."""
        atomic_write_bytes(path, item.encode("utf-8", "surrogateescape"))
