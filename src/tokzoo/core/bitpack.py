"""Lossless packing of integer ids in ``[0, V)`` at (near) their exact information cost.

Each sequence is cut into groups of ``g`` consecutive ids, ``g`` being the largest group size with
``V**g <= 2**64`` (64 when ``V <= 2``). A group of ``r`` ids is read as the mixed-radix number
``sum_j id_j * V**j`` and written with ``w(r) = (V**r - 1).bit_length()`` bits. The fields of every
group of every sequence are concatenated MSB-first into one bit stream without per-sequence padding,
and the stream is zero-padded to a whole byte at its end. For ``V = 2**k`` each id costs exactly
``k`` bits; for ``V = 5`` a group of 27 ids costs 63 bits (2.33 bits per id instead of 3).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from tokzoo.core.errors import TokFormatError

__all__ = ["group_size", "pack_ids", "sequence_bits", "unpack_ids"]

_MAX_VOCAB = 2**64
_WORD = 64


def _check_vocab(vocab_size: int) -> int:
    vocab_size = int(vocab_size)
    if not 1 <= vocab_size <= _MAX_VOCAB:
        raise ValueError(f"vocab_size must be in [1, 2**64], got {vocab_size}")
    return vocab_size


@lru_cache(maxsize=256)
def group_size(vocab_size: int) -> int:
    """Number of ids packed into one field: the largest ``g`` with ``V**g <= 2**64`` (64 for V <= 2)."""
    vocab_size = _check_vocab(vocab_size)
    if vocab_size <= 2:
        return _WORD
    g = 1
    while vocab_size ** (g + 1) <= _MAX_VOCAB:
        g += 1
    return g


@lru_cache(maxsize=256)
def _tables(vocab_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Per group length r in [0, g]: the field width w(r) and the largest valid group value V**r - 1."""
    g = group_size(vocab_size)
    top = [vocab_size**r - 1 for r in range(g + 1)]
    widths = np.array([t.bit_length() for t in top], dtype=np.int64)
    return widths, np.array(top, dtype=np.uint64)


def sequence_bits(length: int, vocab_size: int) -> int:
    """Exact number of payload bits one sequence of ``length`` ids takes."""
    if length < 0:
        raise ValueError(f"sequence length must be >= 0, got {length}")
    g = group_size(vocab_size)
    widths, _ = _tables(vocab_size)
    return (length // g) * int(widths[g]) + int(widths[length % g])


def _group_layout(lengths: np.ndarray, g: int) -> np.ndarray:
    """Number of ids in each group, for all sequences in order (full groups have ``g``)."""
    n_groups = -(-lengths // g)
    counts = np.full(int(n_groups.sum()), g, dtype=np.int64)
    rest = lengths % g
    partial = rest > 0
    last = np.cumsum(n_groups) - 1
    counts[last[partial]] = rest[partial]
    return counts


def _as_ids(seq: np.ndarray, index: int, vocab_size: int) -> np.ndarray:
    arr = np.asarray(seq)
    if arr.ndim != 1:
        raise ValueError(f"sequence {index} must be 1-D, got shape {arr.shape}")
    if arr.size == 0:
        return np.zeros(0, dtype=np.uint64)
    if arr.dtype.kind not in "iu":
        raise ValueError(f"sequence {index} must hold integers, got dtype {arr.dtype}")
    low, high = int(arr.min()), int(arr.max())
    if low < 0 or high >= vocab_size:
        bad = low if low < 0 else high
        raise ValueError(f"id {bad} in sequence {index} is out of range [0, {vocab_size}) (vocab_size)")
    return arr.astype(np.uint64, copy=False)


def pack_ids(seqs: Sequence[np.ndarray], vocab_size: int) -> tuple[bytes, int]:
    """Pack 1-D integer sequences into one byte string; return it and its exact number of bits."""
    vocab_size = _check_vocab(vocab_size)
    g = group_size(vocab_size)
    widths, _ = _tables(vocab_size)
    flat = [_as_ids(s, i, vocab_size) for i, s in enumerate(seqs)]
    lengths = np.array([a.size for a in flat], dtype=np.int64)
    counts = _group_layout(lengths, g)
    total_bits = int(widths[counts].sum())
    if total_bits == 0:
        return b"", 0

    digits = np.zeros((counts.size, g), dtype=np.uint64)
    digits[np.arange(g) < counts[:, None]] = np.concatenate(flat)
    values = digits[:, g - 1].copy()
    if g > 1:  # g > 1 implies V <= 2**32, so V fits in uint64 and no partial product overflows
        radix = np.uint64(vocab_size)
        for j in range(g - 2, -1, -1):
            values *= radix
            values += digits[:, j]

    bits = np.unpackbits(values.astype(">u8").view(np.uint8).reshape(-1, 8), axis=1)
    keep = np.arange(_WORD) >= (_WORD - widths[counts])[:, None]
    return np.packbits(bits[keep]).tobytes(), total_bits


def unpack_ids(payload: bytes, lengths: Sequence[int], vocab_size: int) -> list[np.ndarray]:
    """Invert :func:`pack_ids` given the sequence lengths.

    Returns int64 arrays (uint64 when ``vocab_size > 2**63``, so that large ids survive). Raises
    :class:`TokFormatError` when the payload does not have the expected size or holds values that
    no valid input produces.
    """
    vocab_size = _check_vocab(vocab_size)
    g = group_size(vocab_size)
    widths, top = _tables(vocab_size)
    lens = np.array(lengths, dtype=np.int64).reshape(-1)
    if lens.size and lens.min() < 0:
        raise ValueError(f"sequence lengths must be >= 0, got {int(lens.min())}")
    out_dtype = np.int64 if vocab_size <= 2**63 else np.uint64
    counts = _group_layout(lens, g)
    field_widths = widths[counts]
    total_bits = int(field_widths.sum())
    expected = -(-total_bits // 8)
    if len(payload) != expected:
        what = "too short" if len(payload) < expected else "too long"
        raise TokFormatError(
            f"payload {what}: expected {expected} bytes for {lens.size} sequences "
            f"({total_bits} bits), got {len(payload)}"
        )

    stream = np.unpackbits(np.frombuffer(payload, dtype=np.uint8))
    if stream[total_bits:].any():
        raise TokFormatError("payload padding bits are not zero")
    keep = np.arange(_WORD) >= (_WORD - field_widths)[:, None]
    bits = np.zeros((counts.size, _WORD), dtype=np.uint8)
    bits[keep] = stream[:total_bits]
    values = np.packbits(bits, axis=1).view(">u8").reshape(-1).astype(np.uint64)
    if (values > top[counts]).any():
        raise TokFormatError(f"payload holds a group value outside the range of vocab_size {vocab_size}")

    digits = np.zeros((counts.size, g), dtype=np.uint64)
    if g == 1:
        digits[:, 0] = values
    elif vocab_size > 1:
        radix = np.uint64(vocab_size)
        for j in range(g):
            values, digits[:, j] = np.divmod(values, radix)
    flat = digits[np.arange(g) < counts[:, None]].astype(out_dtype)
    return np.split(flat, np.cumsum(lens)[:-1]) if lens.size else []
