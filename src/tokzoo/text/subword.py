"""``SubwordTokenizer``: BPE / Unigram / WordPiece text tokens learned with HF ``tokenizers`` (``fit``).

The learned pipeline is kept as its JSON in the uint8 buffer ``pipeline_json`` (and, with ``split="morfessor"``,
the learned morph lexicon in ``morph_json``), so ``save_pretrained`` writes it into ``model.safetensors`` and
``tokzoo.load`` restores it (the fingerprint covers it). Ids: the subword model's
ids first, the ``k``-th custom token at ``vocab - len(custom_tokens) + k``; ``Tokens.vocab_size`` is always the
configured ``vocab``, so the bit cost of a token does not depend on how much a fit learned.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tokenizers import Tokenizer as HFTokenizer

from tokzoo.core.errors import CheckpointError, DataError
from tokzoo.core.tokens import Tokens
from tokzoo.text.bytelevel import piece_bytes
from tokzoo.text.codec import TextCodec, ids_to_tokens
from tokzoo.text.config import SubwordConfig
from tokzoo.text.custom import CustomTokens
from tokzoo.text.morfessor import MorphLexicon, fit_morphs
from tokzoo.text.pipeline import CONTINUE, UNK, build_pipeline, train_pipeline
from tokzoo.text.sample import sample_corpus
from tokzoo.text.source import TextSource, as_text, batch_of
from tokzoo.text.turkish import LETTERS, morph_pieces

__all__ = ["SubwordTokenizer"]

_REPLACEMENT = "\ufffd".encode()


def _buffer(text: str) -> torch.Tensor:
    return torch.frombuffer(bytearray(text.encode("utf-8")), dtype=torch.uint8).clone()


class SubwordTokenizer(TextCodec):
    """Text ↔ subword ids. ``fit(files or lines)`` learns the vocabulary; unfitted, it encodes bytes."""

    def __init__(self, cfg: SubwordConfig) -> None:
        super().__init__(cfg)
        self.custom = CustomTokens(cfg.custom_tokens)
        self.register_buffer("pipeline_json", _buffer(build_pipeline(cfg).to_str()))
        self.register_buffer("morph_json", torch.zeros(0, dtype=torch.uint8))
        self._use(self.pipeline_json)
        self._morphs: MorphLexicon | None = None
        self._cuts: dict[str, list[str]] = {}

    @property
    def vocab_size(self) -> int:
        return self.cfg.vocab

    @property
    def learned_size(self) -> int:
        """Ids the subword model uses (custom tokens excluded)."""
        return self.hf.get_vocab_size(with_added_tokens=False)

    def _use(self, buffer: torch.Tensor) -> None:
        """Rebuild the HF tokenizer and the id → bytes table from a pipeline JSON buffer."""
        self.hf = HFTokenizer.from_str(buffer.cpu().numpy().tobytes().decode("utf-8"))
        wordpiece = self.cfg.algorithm == "wordpiece"
        pieces: list[bytes | None] = []
        for i in range(self.hf.get_vocab_size(with_added_tokens=False)):
            token = self.hf.id_to_token(i)
            if token is None:
                pieces.append(None)
            elif token == UNK:
                pieces.append(_REPLACEMENT)
            else:
                pieces.append(
                    piece_bytes(token[len(CONTINUE) :] if wordpiece and token.startswith(CONTINUE) else token)
                )
        self._first_custom = self.cfg.vocab - len(self.cfg.custom_tokens)
        if len(pieces) > self._first_custom:
            raise DataError(
                f"learned vocabulary of {len(pieces)} ids exceeds the {self._first_custom} it may use"
            )
        pieces += [None] * (self._first_custom - len(pieces))
        self._pieces = pieces + [t.encode("utf-8") for t in self.cfg.custom_tokens]
        self._lengths = np.array([len(p) if p is not None else 0 for p in self._pieces], dtype=np.int64)

    def load_state_dict(self, state_dict: Any, strict: bool = True, assign: bool = False) -> Any:
        """Load a saved pipeline (of any length: the buffer takes the saved one's size)."""
        for name in ("pipeline_json", "morph_json"):
            saved = state_dict.get(name)
            if isinstance(saved, torch.Tensor) and saved.dtype == torch.uint8 and saved.ndim == 1:
                setattr(self, name, saved.clone())
        result = super().load_state_dict(state_dict, strict=strict, assign=assign)
        try:
            self._use(self.pipeline_json)
        except Exception as e:  # HF raises plain Exception for a malformed pipeline
            raise CheckpointError(
                f"pipeline_json is not a byte-level {self.cfg.algorithm} pipeline: {e}"
            ) from None
        self._use_morphs()
        return result

    def _use_morphs(self) -> None:
        """Rebuild the morph lexicon from ``morph_json`` (none when empty)."""
        raw = self.morph_json.cpu().numpy().tobytes()
        try:
            self._morphs = MorphLexicon.from_json(raw, "morph_json") if raw else None
        except DataError as e:
            raise CheckpointError(str(e)) from None
        self._cuts = {}

    # -- fit -----------------------------------------------------------------------------------------
    def fit(self, data: Sequence[str | Path] | Iterable[str]) -> dict[str, Any]:
        """Learn the vocabulary from text files (sampled to ``sample_bytes``, bounded memory) or from an iterable
        of ``str`` lines (used as given). Returns counts to report."""
        items = list(data) if not isinstance(data, (str, Path)) else [data]
        if items and all(isinstance(x, Path) for x in items):
            sample = sample_corpus(items, self.cfg.sample_bytes, seed=self.cfg.seed)
            lines, counts = sample.lines, sample.counts()
        else:
            lines = [str(x) for x in items]
            if not any(line.strip() for line in lines):
                raise DataError("empty corpus: no text to fit")
            counts = {"lines_sampled": len(lines), "bytes_sampled": sum(len(x.encode()) for x in lines)}
        if self.cfg.split == "morfessor":
            words = (
                m.group().lower()
                for line in lines
                for p in self.custom.strip(line)
                for m in LETTERS.finditer(p)
            )
            self.morph_json = torch.frombuffer(
                bytearray(fit_morphs(words, seed=self.cfg.seed).to_json()), dtype=torch.uint8
            ).clone()
            self._use_morphs()
            counts["morphs"] = len(self._morphs.counts)
        pieces = [q for line in lines for p in self.custom.strip(line) for q in self._presplit(p)]
        trained = train_pipeline(self.cfg, pieces, len(pieces))
        self.pipeline_json = _buffer(trained.to_str())
        self._use(self.pipeline_json)
        return {
            **counts,
            "learned_vocab": self.learned_size + len(self.cfg.custom_tokens),
            "vocab": self.cfg.vocab,
        }

    def _presplit(self, text: str) -> list[str]:
        """Pieces the subword model sees separately (``split="morph-tr"``: cut before Turkish suffixes;
        ``"morfessor"``: cut between the learned morphs of each word)."""
        if self.cfg.split == "morph-tr":
            return morph_pieces(text)
        if self.cfg.split == "morfessor":
            if self._morphs is None:
                raise DataError(f"{self.registry_name}: split='morfessor' needs fit() before encoding")
            return morph_pieces(text, self._segment)
        return [text]

    def _segment(self, word: str) -> list[str]:
        """The lexicon's cut of ``word``, memoised (running text repeats its words)."""
        cut = self._cuts.get(word)
        if cut is None:
            cut = self._morphs.segment_cased(word)  # type: ignore[union-attr]
            if len(self._cuts) < 1 << 20:
                self._cuts[word] = cut
        return cut

    # -- encode / decode -----------------------------------------------------------------------------
    def encode_texts(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Id arrays of already-validated ``str`` texts."""
        segments: list[str] = []
        layout: list[list[tuple[int, int]]] = []  # per text: (segment index or -1, custom id)
        for text in texts:
            row = []
            for piece, k in self.custom.split(text):
                if k is None:
                    for part in self._presplit(piece):
                        row.append((len(segments), 0))
                        segments.append(part)
                else:
                    row.append((-1, self._first_custom + k))
            layout.append(row)
        encoded = [
            np.asarray(e.ids, dtype=np.int64)
            for e in self.hf.encode_batch_fast(segments, add_special_tokens=False)
        ]
        out = []
        for row in layout:
            parts = [encoded[s] if s >= 0 else np.array([c], dtype=np.int64) for s, c in row]
            out.append(np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64))
        return out

    def encode(self, x: Sequence[TextSource] | TextSource, *, num_tokens: int | None = None) -> Tokens:
        """Tokens of a batch of texts (``str``, UTF-8 ``bytes`` or paths; invalid UTF-8 is a TextInputError)."""
        self._no_count(num_tokens)
        texts = [as_text(item, f"text {i}") for i, item in enumerate(batch_of(x))]
        meta = {"tokenizer": self.registry_name}
        if self.cfg.normalize != "none":
            meta["normalized"] = [self.hf.normalizer.normalize_str(t) != t for t in texts]
        return ids_to_tokens(self.encode_texts(texts), self.cfg.vocab, meta)

    @property
    def pieces(self) -> list[bytes | None]:
        """The bytes of each id (None for an id the learned vocabulary leaves unused)."""
        return list(self._pieces)

    def token_lengths(self, ids: Sequence[int]) -> np.ndarray:
        """Bytes each token stands for (of the normalized text)."""
        return self._lengths[np.asarray(ids, dtype=np.int64)]

    def decode_ids(self, ids: Iterable[int]) -> bytes:
        """The bytes of one id sequence; DataError for an id the vocabulary does not use."""
        out = []
        for i in ids:
            piece = self._pieces[i] if 0 <= i < len(self._pieces) else None
            if piece is None:
                raise DataError(f"id {i} is not in the learned vocabulary of {self.registry_name}")
            out.append(piece)
        return b"".join(out)

    def decode(self, tokens: Tokens) -> list[str]:
        """One ``str`` per sample (a sequence cut inside a character keeps its bytes as surrogate escapes)."""
        if tokens.layout != "seq1d" or tokens.vocab_size != self.cfg.vocab:
            raise DataError(
                f"expected seq1d tokens over {self.cfg.vocab} ids, got {tokens.layout!r} over {tokens.vocab_size}"
            )
        return [
            self.decode_ids(tokens.sample(i).tolist()).decode("utf-8", "surrogateescape")
            for i in range(len(tokens))
        ]
