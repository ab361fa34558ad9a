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

__all__ = [
    "entropy_patches",
    "fixed_patches",
    "mean_piece_length",
    "patch_pieces",
    "patch_starts_to_lengths",
    "threshold_for_size",
]


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


def mean_piece_length(lengths: np.ndarray, max_len: int) -> float:
    """Mean bytes per piece once every patch longer than ``max_len`` is cut as :func:`patch_pieces` cuts it."""
    lengths = np.asarray(lengths, dtype=np.int64)
    pieces = int(np.maximum(-(-lengths // max_len), 1).sum())
    return float(lengths.sum()) / pieces if pieces else 0.0


def threshold_for_size(entropies: np.ndarray, size: float, mode: str, max_len: int) -> tuple[float, float]:
    """The entropy threshold θ (``mode`` "global" or "relative") whose patches, cut at ``max_len`` bytes, are
    closest to ``size`` bytes per piece on average — how BLT compares patchings at a matched mean patch size.
    Returns (θ, the mean piece length it gives). Only the statistic's own values need trying (the patches change
    only there), and the mean grows with θ, so a binary search over them finds it."""
    h = np.asarray(entropies, dtype=np.float64)
    if len(h) < 2:
        raise ValueError(f"need at least 2 entropies to calibrate a threshold, got {len(h)}")
    if not 1 <= size <= max_len:
        raise ValueError(f"target patch size must be in [1, {max_len}], got {size}")
    stat = h if mode == "global" else np.diff(h)
    candidates = np.unique(stat)
    mean = lambda t: mean_piece_length(entropy_patches(h, float(t), mode), max_len)  # noqa: E731
    lo, hi = 0, len(candidates) - 1
    while lo < hi:  # first candidate whose mean reaches the target
        mid = (lo + hi) // 2
        if mean(candidates[mid]) >= size:
            hi = mid
        else:
            lo = mid + 1
    options = {float(candidates[i]) for i in (lo - 1, lo) if 0 <= i < len(candidates)}
    options.add(float(candidates[0]) - 1.0)  # below every value: a patch at every byte
    best = min(options, key=lambda t: abs(mean(t) - size))
    return best, mean(best)


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
