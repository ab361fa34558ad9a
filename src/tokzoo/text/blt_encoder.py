"""BLT's local-encoder pieces: hash n-gram byte embeddings and cross-attention patch pooling.

"Byte Latent Transformer: Patches Scale Better Than Tokens" (Pagnoni et al., 2024):

- §3.2.1 "Encoder Hash n-gram Embeddings": each byte's embedding is summed with one embedding per n-gram size n,
  looked up by a rolling polynomial hash of the n bytes ending at that byte, modulo a fixed number of buckets
  (:func:`ngram_hashes`, :class:`HashNgramEmbedding`);
- §3.2.2 "Encoder Multi-Headed Cross-Attention": each patch is a query, initialised by pooling its bytes' states,
  that cross-attends to the byte states of its own patch only (a mask from the patch ids), with a residual and a
  normalisation (:class:`PatchCrossAttention`).

Used by :class:`tokzoo.text.word_pooled.WordPooledLM` (``pooling="cross"``, ``hash_ngrams``), which encodes every
patch on its own row: its n-grams stop at the patch start (the bytes before it are a boundary symbol), where BLT's
n-grams run across patch boundaries over the byte stream.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["HASH_BASE", "HASH_MODULUS", "HashNgramEmbedding", "PatchCrossAttention", "ngram_hashes"]

HASH_BASE = 1_000_003  # base of the polynomial hash
HASH_MODULUS = (
    2_147_483_647  # 2^31 - 1, prime: base^i mod M < 2^31, so the sums of n < 2^23 terms fit in int64
)


def ngram_hashes(tokens: torch.Tensor, n: int, buckets: int, boundary: int) -> torch.Tensor:
    """Bucket (int64, same shape as ``tokens``) of the n-gram that ends at each position of the last dimension:
    the polynomial hash ``sum_i x[j - i] * HASH_BASE**i mod HASH_MODULUS`` (Rabin–Karp's rolling hash) modulo
    ``buckets``, with positions before the row's start read as ``boundary``. Deterministic, no Python loop over
    positions."""
    if n < 1:
        raise ValueError(f"n-gram size must be at least 1, got {n}")
    if buckets < 1:
        raise ValueError(f"number of hash buckets must be at least 1, got {buckets}")
    if tokens.dtype.is_floating_point or tokens.dtype == torch.bool:
        raise ValueError(f"tokens must be integer ids, got {tokens.dtype}")
    x = F.pad(tokens.long(), (n - 1, 0), value=boundary)
    windows = x.unfold(-1, n, 1)  # (..., L, n): window j holds x[j - n + 1 .. j]
    powers = [pow(HASH_BASE, n - 1 - i, HASH_MODULUS) for i in range(n)]  # the last byte gets base^0
    h = (windows % HASH_MODULUS * torch.tensor(powers, device=tokens.device)).sum(-1) % HASH_MODULUS
    return h % buckets


class HashNgramEmbedding(nn.Module):
    """Sum over ``ngrams`` of an embedding table of ``buckets`` rows each, indexed by :func:`ngram_hashes` (BLT
    §3.2.1); ``boundary`` is the id read before the start of each row."""

    def __init__(
        self, dim: int, ngrams: Sequence[int] = (3, 4, 5), buckets: int = 4096, boundary: int = -1
    ) -> None:
        super().__init__()
        ngrams = tuple(int(n) for n in ngrams)
        if not ngrams:
            raise ValueError("hash n-gram embedding needs at least one n-gram size")
        if min(ngrams) < 1:
            raise ValueError(f"n-gram sizes must be at least 1, got {ngrams}")
        if len(set(ngrams)) != len(ngrams):
            raise ValueError(f"n-gram sizes must be distinct, got {ngrams}")
        if buckets < 1:
            raise ValueError(f"number of hash buckets must be at least 1, got {buckets}")
        self.ngrams, self.buckets, self.boundary = ngrams, buckets, boundary
        self.table = nn.Embedding(len(ngrams) * buckets, dim)  # one block of ``buckets`` rows per n
        nn.init.normal_(self.table.weight, std=0.02)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """(..., L, dim): the summed n-gram embeddings at each position of ``tokens`` (..., L)."""
        index = torch.stack(
            [
                ngram_hashes(tokens, n, self.buckets, self.boundary) + i * self.buckets
                for i, n in enumerate(self.ngrams)
            ]
        )
        return self.table(index).sum(0)


class PatchCrossAttention(nn.Module):
    """Patches as queries over their own bytes (BLT §3.2.2): each query starts as the ``pool`` ("max" or "mean")
    of its patch's byte states, then adds multi-head cross-attention (pre-norm) to the bytes whose patch id is its
    index; a final LayerNorm. A patch with no bytes gives zeros."""

    def __init__(self, dim: int, heads: int, pool: str = "max") -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"width {dim} is not divisible by {heads} heads")
        if pool not in ("max", "mean"):
            raise ValueError(f"query pooling must be 'max' or 'mean', got {pool!r}")
        self.heads, self.pool = heads, pool
        self.norm_q, self.norm_kv, self.norm_out = nn.LayerNorm(dim), nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, states: torch.Tensor, patch_ids: torch.Tensor, num_patches: int) -> torch.Tensor:
        """(N, num_patches, dim) patch vectors from byte ``states`` (N, L, dim) and ``patch_ids`` (N, L): the patch
        of each byte in ``0 .. num_patches - 1``, or -1 for padding."""
        n, length, d = states.shape
        if patch_ids.shape != (n, length):
            raise ValueError(f"patch ids must be {(n, length)}, got {tuple(patch_ids.shape)}")
        member = (
            patch_ids[:, None, :] == torch.arange(num_patches, device=states.device)[None, :, None]
        )  # (N, P, L)
        present = member.any(-1, keepdim=True)  # (N, P, 1)
        if self.pool == "max":
            masked = states[:, None].masked_fill(~member[..., None], float("-inf"))
            query = masked.amax(2).masked_fill(~present, 0.0)
        else:
            query = member.to(states.dtype) @ states / member.sum(-1, keepdim=True).clamp(min=1)
        h = d // self.heads
        q = self.q(self.norm_q(query)).view(n, num_patches, self.heads, h).transpose(1, 2)
        k, v = self.kv(self.norm_kv(states)).view(n, length, 2, self.heads, h).permute(2, 0, 3, 1, 4)
        mask = member | ~present  # an empty patch attends everything (no NaN row), its output is zeroed below
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask[:, None])
        out = query + self.proj(out.transpose(1, 2).reshape(n, num_patches, d))
        return self.norm_out(out).masked_fill(~present, 0.0)
