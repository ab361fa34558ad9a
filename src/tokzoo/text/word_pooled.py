"""Word-pooled byte LM: "Learn Your Tokens: Word-Pooled Tokenization for Language Modeling" (Thawani et al., 2023).

Bytes are grouped into words (:func:`split_words`: leading whitespace + the non-space run, cut at ``max_word``
bytes), each word's bytes plus an end-of-word symbol go through a small bidirectional local encoder whose first
(CLS) position is the word's vector, a causal word-level transformer (:class:`tokzoo.nn.transformer.Transformer`,
the blocks of :class:`~tokzoo.text.lm.CausalLM`) reads the word vectors, and a small causal local decoder spells the
*next* word byte by byte from the word-level output, ending with the end-of-word symbol. The words with their end
symbols are a lossless code of the byte stream, so the held-out NLL of every byte and end symbol divided by the bytes
is a true bits-per-byte, comparable with :func:`tokzoo.text.lm.bits_per_byte` of a subword LM.

Nothing in the model depends on the pieces being words: given BLT entropy patches or MegaByte fixed patches
(:func:`tokzoo.text.patching.patch_pieces`) it is a patch-level latent transformer with a local encoder and decoder
in the manner of "Byte Latent Transformer: Patches Scale Better Than Tokens" (Pagnoni et al., 2024) and
"MEGABYTE" (Yu et al., 2023). Its default pools each piece with a CLS position (Learn Your Tokens);
``pooling="cross"`` pools it BLT's way instead (the piece is a query, initialised by max-pooling its byte states,
that cross-attends to its own bytes) and ``hash_ngrams`` adds BLT's hash n-gram embeddings to the byte embeddings
(:mod:`tokzoo.text.blt_encoder`; the n-grams stop at the piece's start). The decoder reads the piece's global
output as its first position (not BLT's decoder cross-attention).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from tokzoo.nn.transformer import Transformer, key_padding_mask
from tokzoo.text.blt_encoder import HashNgramEmbedding, PatchCrossAttention
from tokzoo.text.lm import fit_windows

__all__ = [
    "EOW",
    "PAD",
    "WordLMConfig",
    "WordPooledLM",
    "split_words",
    "train_word_lm",
    "word_bits_per_byte",
    "word_table",
]

EOW, PAD, CLS = 256, 257, 258  # end of word (predicted), padding, the encoder's pooling position
BOUNDARY = 259  # what the hash n-grams read before a piece's first byte
POOLINGS = ("cls", "cross")
_WORD = re.compile(rb"\s*\S+|\s+")


@dataclass(frozen=True)
class WordLMConfig:
    """Word-level transformer (``dim``, ``depth``, ``heads``, ``context`` words), local encoder/decoder
    (``local_dim``, ``local_depth``, ``local_heads``), longest word ``max_word`` bytes; training as
    :class:`~tokzoo.text.lm.LMConfig` (``steps`` of ``batch`` windows of ``context`` words).

    BLT's encoder (:mod:`tokzoo.text.blt_encoder`): ``pooling`` "cls" (default, Learn Your Tokens) or "cross"
    (BLT cross-attention pooling); ``hash_ngrams`` the n-gram sizes of the hash embeddings (empty: none), each with
    ``hash_buckets`` rows."""

    dim: int = 128
    depth: int = 2
    heads: int = 4
    context: int = 65
    local_dim: int = 48
    local_depth: int = 1
    local_heads: int = 2
    max_word: int = 16
    steps: int = 300
    batch: int = 16
    lr: float = 3e-3
    seed: int = 0
    pooling: str = "cls"
    hash_ngrams: tuple[int, ...] = ()
    hash_buckets: int = 4096

    def __post_init__(self) -> None:
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {self.pooling!r}")
        if any(n < 1 for n in self.hash_ngrams):
            raise ValueError(f"hash n-gram sizes must be at least 1, got {tuple(self.hash_ngrams)}")
        if self.hash_ngrams and self.hash_buckets < 1:
            raise ValueError(f"number of hash buckets must be at least 1, got {self.hash_buckets}")


def split_words(data: bytes, max_word: int) -> list[bytes]:
    """Words of ``data``: leading whitespace + non-space bytes (or a whitespace tail), each cut into pieces of at
    most ``max_word`` bytes; they concatenate to ``data``."""
    if max_word < 1:
        raise ValueError(f"max_word must be positive, got {max_word}")
    out = []
    for m in _WORD.finditer(data):
        word = m.group()
        out.extend(word[i : i + max_word] for i in range(0, len(word), max_word))
    return out


def word_table(words: list[bytes], max_word: int) -> np.ndarray:
    """(words, max_word + 1) int16: each word's bytes, then EOW, then PAD."""
    table = np.full((len(words), max_word + 1), PAD, dtype=np.int16)
    for i, w in enumerate(words):
        table[i, : len(w)] = np.frombuffer(w, dtype=np.uint8)
        table[i, len(w)] = EOW
    return table


class WordPooledLM(nn.Module):
    """Local byte encoder → pooled word vectors → causal word transformer → local byte decoder of the next word."""

    def __init__(self, cfg: WordLMConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d, w = cfg.local_dim, cfg.max_word + 2
        self.embed = nn.Embedding(CLS + 1, d)
        self.enc_pos = nn.Parameter(torch.randn(w, d) * 0.02)
        self.dec_pos = nn.Parameter(torch.randn(w - 1, d) * 0.02)
        self.encoder = Transformer(d, cfg.local_depth, cfg.local_heads)
        self.up = nn.Linear(d, cfg.dim)
        self.pos = nn.Parameter(torch.randn(cfg.context, cfg.dim) * 0.02)
        self.words = Transformer(cfg.dim, cfg.depth, cfg.heads)
        self.down = nn.Linear(cfg.dim, d)
        self.decoder = Transformer(d, cfg.local_depth, cfg.local_heads)
        self.head = nn.Linear(d, EOW + 1)
        self.register_buffer(
            "causal", torch.ones(cfg.context, cfg.context, dtype=torch.bool).tril(), persistent=False
        )
        self.register_buffer(
            "local_causal", torch.ones(w - 1, w - 1, dtype=torch.bool).tril(), persistent=False
        )
        # BLT's pieces, created last so that the default (CLS, no hashes) initialises exactly as before
        self.hashes = (
            HashNgramEmbedding(d, cfg.hash_ngrams, cfg.hash_buckets, BOUNDARY) if cfg.hash_ngrams else None
        )
        self.pool = PatchCrossAttention(d, cfg.local_heads) if cfg.pooling == "cross" else None

    def encode(self, words: torch.Tensor) -> torch.Tensor:
        """(B, K, local_dim) vector of each word of ``words`` (B, K, max_word + 1) from its own bytes + EOW only."""
        b, k, w = words.shape
        flat = words.reshape(b * k, w)
        if self.pool is None:  # Learn Your Tokens: the CLS position's output
            tokens = torch.cat([torch.full_like(flat[:, :1], CLS), flat], 1)
            x = self.embed(tokens) + self.enc_pos
            if self.hashes is not None:
                x = x + self.hashes(tokens.masked_fill(tokens == CLS, BOUNDARY))
            pooled = self.encoder(x, key_padding_mask(tokens != PAD))[:, 0]
        else:  # BLT: the piece is a query that cross-attends to its bytes' states
            x = self.embed(flat) + self.enc_pos[:w]
            if self.hashes is not None:
                x = x + self.hashes(flat)
            valid = flat != PAD
            states = self.encoder(x, key_padding_mask(valid))
            pooled = self.pool(states, valid.long() - 1, 1)[:, 0]
        return pooled.reshape(b, k, -1)

    def forward(self, words: torch.Tensor) -> torch.Tensor:
        """Logits (B, K - 1, max_word + 1, 257) of the bytes + EOW of words 1..K-1 of ``words`` (B, K, max_word+1)
        from the words before each."""
        b, k, w = words.shape
        g = self.words(self.up(self.encode(words)) + self.pos[:k], self.causal[:k, :k])
        target = words[:, 1:].reshape(b * (k - 1), w)
        prev = self.embed(target[:, :-1])  # PAD inputs only sit after EOW, where no target is scored
        start = self.down(g[:, :-1]).reshape(b * (k - 1), 1, -1)
        y = self.decoder(torch.cat([start, prev], 1) + self.dec_pos, self.local_causal)
        return self.head(y).reshape(b, k - 1, w, EOW + 1)


def _loss(model: WordPooledLM, batch: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    logits = model(batch)
    target = batch[:, 1:].long()
    return F.cross_entropy(
        logits.reshape(-1, EOW + 1), target.reshape(-1), ignore_index=PAD, reduction=reduction
    )


def train_word_lm(model: WordPooledLM, table: np.ndarray) -> list[float]:
    """Train on random windows of ``context`` consecutive words of ``table`` (the loop of
    :func:`~tokzoo.text.lm.train_lm`); returns the losses in nats per byte-or-EOW symbol."""
    words = torch.from_numpy(table.astype(np.int64))
    return fit_windows(model, words, model.cfg.context, _loss, unit="words")


@torch.no_grad()
def word_bits_per_byte(model: WordPooledLM, table: np.ndarray, batch: int = 32) -> float:
    """Held-out bits per byte over non-overlapping windows of ``context`` words: the NLL of the bytes and EOW of
    every word but the first of each window, divided by those words' bytes."""
    model.eval()
    k = model.cfg.context
    count = len(table) // k
    if not count:
        raise ValueError(f"held-out text shorter than one window ({k} words)")
    windows = torch.from_numpy(table[: count * k].astype(np.int64)).reshape(count, k, -1)
    nats = sum(float(_loss(model, windows[i : i + batch], "sum")) for i in range(0, count, batch))
    scored = windows[:, 1:]
    data_bytes = int(((scored != PAD) & (scored != EOW)).sum())
    return nats / math.log(2) / data_bytes
