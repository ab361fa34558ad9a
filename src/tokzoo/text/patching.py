"""Byte patching: MegaByte's fixed-size patches and BLT's entropy patches.

- "MEGABYTE: Predicting Million-byte Sequences with Multiscale Transformers" (Yu et al., 2023): patches of a
  fixed number of bytes;
- "Byte Latent Transformer: Patches Scale Better Than Tokens" (Pagnoni et al., 2024): a small byte LM gives the
  entropy H(x_t) of each next byte; a patch starts at byte t when H(x_t) > θ (*global* threshold) or when
  H(x_t) - H(x_{t-1}) > θ (*relative*, the approximate monotonicity constraint). Byte 0 always starts a patch.

Patches are returned as their lengths in bytes (summing to the input length). The entropies come from
:func:`tokzoo.text.lm.next_token_entropies` of a byte LM trained here (``benchmarks/text.py``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["entropy_patches", "fixed_patches", "patch_pieces", "patch_starts_to_lengths"]


def fixed_patches(num_bytes: int, size: int) -> np.ndarray:
    """Lengths of MegaByte patches of ``size`` bytes (the last one may be shorter)."""
    if size < 1:
        raise ValueError(f"patch size must be at least 1, got {size}")
    lengths = np.full(num_bytes // size, size, dtype=np.int64)
    return np.append(lengths, num_bytes % size) if num_bytes % size else lengths


def patch_starts_to_lengths(starts: np.ndarray, num_bytes: int) -> np.ndarray:
    """Lengths of the patches that begin at the sorted byte offsets ``starts`` (which include 0)."""
    return np.diff(np.append(starts, num_bytes)).astype(np.int64)


def entropy_patches(entropies: np.ndarray, threshold: float, mode: str = "global") -> np.ndarray:
    """Lengths of BLT entropy patches of a byte string whose next-byte entropies (bits) are ``entropies``."""
    h = np.asarray(entropies, dtype=np.float64)
    if not len(h):
        return np.zeros(0, dtype=np.int64)
    if mode == "global":
        start = h > threshold
    elif mode == "relative":
        start = np.concatenate(([True], np.diff(h) > threshold))
    else:
        raise ValueError(f"patching mode must be 'global' or 'relative', got {mode!r}")
    start[0] = True
    return patch_starts_to_lengths(np.flatnonzero(start), len(h))


def patch_pieces(data: bytes, lengths: np.ndarray, max_len: int) -> list[bytes]:
    """The bytes of each patch of ``data`` (``lengths`` summing to ``len(data)``), a patch longer than ``max_len``
    cut into pieces of at most ``max_len`` bytes: what a patch-level LM (:mod:`tokzoo.text.word_pooled`) reads.
    The pieces concatenate to ``data``."""
    if max_len < 1:
        raise ValueError(f"max_len must be positive, got {max_len}")
    lengths = np.asarray(lengths, dtype=np.int64)
    if (lengths < 0).any() or int(lengths.sum()) != len(data):
        raise ValueError(f"patch lengths sum to {int(lengths.sum())}, not the {len(data)} bytes of the data")
    out, at = [], 0
    for n in lengths.tolist():
        end = at + n
        out.extend(data[i : min(i + max_len, end)] for i in range(at, end, max_len))
        at = end
    return out
