"""``text-sp-unigram`` / ``text-sp-bpe``: tokens learned with Google's ``sentencepiece`` trainer.

"SentencePiece: A simple and language independent subword tokenizer and detokenizer for Neural Text Processing"
(Kudo and Richardson, 2018), Unigram ("Subword Regularization", Kudo, 2018) or BPE. Set up to be lossless like the
byte-level models: identity normalization, no dummy prefix, whitespace kept, ``byte_fallback`` (a character
without a piece becomes its UTF-8 byte pieces), no BOS/EOS. The trained model proto is the uint8 buffer
``model_proto`` (in ``model.safetensors``, covered by the fingerprint). Ids: 0 = ``<unk>`` (never produced), 1..256
the bytes, then the learned pieces; unfitted, text encodes as its bytes. sentencepiece writes spaces as U+2581
(▁), so a text that contains U+2581 itself would not decode exactly: it is refused (:class:`TextInputError`).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import sentencepiece as sp
import torch

from tokzoo.core.errors import CheckpointError, ConfigError, DataError
from tokzoo.core.presets import register_preset
from tokzoo.core.tokens import Tokens
from tokzoo.text.codec import TextCodec, ids_to_tokens
from tokzoo.text.sample import sample_corpus
from tokzoo.text.source import TextInputError, TextSource, as_text, batch_of

__all__ = ["SentencePieceConfig", "SentencePieceTokenizer"]

SPACE = "\u2581"
BYTES = 256


@dataclass
class SentencePieceConfig:
    """``model_type`` ``unigram`` or ``bpe``; at most ``vocab`` ids (the 256 byte pieces and ``<unk>``
    included); ``sample_bytes`` of the corpus read by ``fit`` (bounded memory); ``seed`` of that sampling."""

    model_type: str = "unigram"
    vocab: int = 16384
    sample_bytes: int = 64 << 20
    seed: int = 0

    def __post_init__(self) -> None:
        if self.model_type not in ("unigram", "bpe"):
            raise ConfigError(f"text config: model_type must be unigram or bpe, got {self.model_type!r}")
        if type(self.vocab) is not int or not BYTES + 2 <= self.vocab <= 1 << 20:
            raise ConfigError(
                f"text config: vocab must be an integer in [{BYTES + 2}, {1 << 20}], got {self.vocab!r}"
            )
        if type(self.sample_bytes) is not int or self.sample_bytes < 1:
            raise ConfigError(
                f"text config: sample_bytes must be a positive integer, got {self.sample_bytes!r}"
            )


class SentencePieceTokenizer(TextCodec):
    """Text ↔ sentencepiece ids. ``fit(files or lines)`` trains; unfitted, it encodes bytes."""

    def __init__(self, cfg: SentencePieceConfig) -> None:
        super().__init__(cfg)
        self.register_buffer("model_proto", torch.zeros(0, dtype=torch.uint8, device="cpu"))
        self._use(self.model_proto)

    @property
    def vocab_size(self) -> int:
        return self.cfg.vocab

    def _use(self, buffer: torch.Tensor) -> None:
        """Load a model proto (empty: bytes only) and build the id → bytes table."""
        proto = buffer.cpu().numpy().tobytes()
        self.sp = sp.SentencePieceProcessor(model_proto=proto) if proto else None
        pieces: list[bytes | None] = [None] + [bytes([b]) for b in range(BYTES)]
        if self.sp is not None:
            if self.sp.get_piece_size() > self.cfg.vocab or self.sp.piece_to_id("<0x00>") != 1:
                raise CheckpointError(
                    f"model_proto is not a byte-fallback model of at most {self.cfg.vocab} ids"
                )
            for i in range(BYTES + 1, self.sp.get_piece_size()):
                pieces.append(
                    None if self.sp.is_control(i) else self.sp.id_to_piece(i).replace(SPACE, " ").encode()
                )
        self._pieces = pieces + [None] * (self.cfg.vocab - len(pieces))
        self._lengths = np.array([len(p) if p is not None else 0 for p in self._pieces], dtype=np.int64)

    def load_state_dict(self, state_dict: Any, strict: bool = True, assign: bool = False) -> Any:
        """Load a saved model proto (of any length)."""
        saved = state_dict.get("model_proto")
        if isinstance(saved, torch.Tensor) and saved.dtype == torch.uint8 and saved.ndim == 1:
            self.model_proto = saved.clone()
        result = super().load_state_dict(state_dict, strict=strict, assign=assign)
        try:
            self._use(self.model_proto)
        except RuntimeError as e:  # sentencepiece's parse error
            raise CheckpointError(f"model_proto is not a sentencepiece model: {e}") from None
        return result

    def fit(self, data: Sequence[str | Path] | Iterable[str]) -> dict[str, Any]:
        """Train on text files (sampled to ``sample_bytes``) or on an iterable of ``str`` lines."""
        items = list(data) if not isinstance(data, (str, Path)) else [data]
        if items and all(isinstance(x, Path) for x in items):
            sample = sample_corpus(items, self.cfg.sample_bytes, seed=self.cfg.seed)
            lines, counts = sample.lines, sample.counts()
        else:
            lines = [str(x) for x in items]
            counts = {"lines_sampled": len(lines), "bytes_sampled": sum(len(x.encode()) for x in lines)}
        lines = [line.replace(SPACE, " ") for line in lines if line.strip()]
        if not lines:
            raise DataError("empty corpus: no text to fit")
        out = io.BytesIO()
        sp.SentencePieceTrainer.train(
            sentence_iterator=iter(lines), model_writer=out, model_type=self.cfg.model_type,
            vocab_size=self.cfg.vocab, hard_vocab_limit=False, byte_fallback=True, character_coverage=0.9995,
            normalization_rule_name="identity", add_dummy_prefix=False, remove_extra_whitespaces=False,
            allow_whitespace_only_pieces=True, split_digits=False, max_sentence_length=1 << 16,
            unk_id=0, bos_id=-1, eos_id=-1, pad_id=-1, num_threads=1, minloglevel=2,
        )  # fmt: skip
        self.model_proto = torch.frombuffer(bytearray(out.getvalue()), dtype=torch.uint8).clone()
        self._use(self.model_proto)
        return {**counts, "learned_vocab": self.sp.get_piece_size(), "vocab": self.cfg.vocab}

    def encode_texts(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Id arrays of already-validated ``str`` texts."""
        if self.sp is None:
            return [np.frombuffer(t.encode(), dtype=np.uint8).astype(np.int64) + 1 for t in texts]
        return [np.asarray(ids, dtype=np.int64) for ids in self.sp.encode(list(texts))]

    def encode(self, x: Sequence[TextSource] | TextSource, *, num_tokens: int | None = None) -> Tokens:
        """Tokens of a batch of texts (``str``, UTF-8 ``bytes`` or paths)."""
        self._no_count(num_tokens)
        texts = [as_text(item, f"text {i}") for i, item in enumerate(batch_of(x))]
        for i, t in enumerate(texts):
            if SPACE in t:
                raise TextInputError(
                    f"text {i}: U+2581 at character {t.index(SPACE)} (sentencepiece's space mark)"
                )
        return ids_to_tokens(self.encode_texts(texts), self.cfg.vocab, {"tokenizer": self.registry_name})

    @property
    def pieces(self) -> list[bytes | None]:
        """The bytes of each id (None for ids that stand for no text)."""
        return list(self._pieces)

    def token_lengths(self, ids: Sequence[int]) -> np.ndarray:
        """Bytes each token stands for."""
        return self._lengths[np.asarray(ids, dtype=np.int64)]

    def decode(self, tokens: Tokens) -> list[str]:
        """One ``str`` per sample (a sequence cut inside a character keeps its bytes as surrogate escapes)."""
        if tokens.layout != "seq1d" or tokens.vocab_size != self.cfg.vocab:
            raise DataError(
                f"expected seq1d tokens over {self.cfg.vocab} ids, got {tokens.layout!r} over {tokens.vocab_size}"
            )
        out = []
        for i in range(len(tokens)):
            parts = []
            for t in tokens.sample(i).tolist():
                piece = self._pieces[t] if 0 <= t < len(self._pieces) else None
                if piece is None:
                    raise DataError(f"id {t} is not in the learned vocabulary of {self.registry_name}")
                parts.append(piece)
            out.append(b"".join(parts).decode("utf-8", "surrogateescape"))
        return out


for _type in ("unigram", "bpe"):
    register_preset(
        f"text-sp-{_type}", SentencePieceTokenizer, SentencePieceConfig(model_type=_type),
        f"sentencepiece {_type} text tokens with byte fallback, at most 16384 ids (learn with tokzoo fit).",
    )  # fmt: skip
