"""Text tokenizers: byte-level BPE / Unigram / WordPiece learned with HF ``tokenizers``, KL3M-style domain and
character-level variants, and raw bytes; intrinsic metrics (:mod:`tokzoo.text.metrics`); see ``docs/text.md``.

``tokzoo.create("text-bpe", vocab=16000).fit(files)``; ``encode(["text", b"bytes", path])`` → ``Tokens``;
``decode(tokens)`` → ``str``. Invalid input raises :class:`TextInputError` (policy: :mod:`tokzoo.text.source`).
"""

from tokzoo.text import modality, presets, spm  # noqa: F401  (registers the text modality and its tokenizers)
from tokzoo.text.byte_codec import ByteConfig, ByteTokenizer
from tokzoo.text.config import SubwordConfig
from tokzoo.text.source import TextInputError
from tokzoo.text.subword import SubwordTokenizer

__all__ = ["ByteConfig", "ByteTokenizer", "SubwordConfig", "SubwordTokenizer", "TextInputError"]
