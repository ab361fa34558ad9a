"""Exact and near-duplicate detection for image sets: pixel hashes and a 64-bit DCT perceptual hash."""

from __future__ import annotations

import hashlib
from functools import lru_cache

import numpy as np
from PIL import Image

__all__ = ["NearDuplicates", "hamming", "phash", "pixel_hash"]


def pixel_hash(pixels: np.ndarray) -> str:
    """sha256 of an image's decoded pixels and shape: equal for pixel-identical images, whatever the file format."""
    return hashlib.sha256(
        f"{pixels.shape}{pixels.dtype}".encode() + np.ascontiguousarray(pixels).tobytes()
    ).hexdigest()


@lru_cache(maxsize=1)
def _dct_matrix(n: int = 32) -> np.ndarray:
    k = np.arange(n)[:, None]
    m = np.cos(np.pi * (2 * np.arange(n)[None, :] + 1) * k / (2 * n)) * np.sqrt(2.0 / n)
    m[0] /= np.sqrt(2.0)
    return m


def phash(rgb: np.ndarray) -> int:
    """64-bit DCT perceptual hash (pHash) of an HxWx3 uint8 image.

    The image is reduced to 32x32 gray; bit ``i`` says whether the ``i``-th of the 8x8 lowest-frequency
    DCT coefficients is above their median (the DC term excluded from the median). Rescaling, mild
    recompression and small colour shifts change few bits; different images differ in about 32.
    """
    gray = Image.fromarray(rgb).convert("L").resize((32, 32), Image.Resampling.BOX)
    d = _dct_matrix()
    coeffs = (d @ np.asarray(gray, dtype=np.float64) @ d.T)[:8, :8].ravel()
    bits = coeffs > np.median(coeffs[1:])
    return int(np.packbits(bits.astype(np.uint8)).view(">u8")[0])


def hamming(a: int, b: int) -> int:
    """Number of differing bits of two 64-bit hashes."""
    return (a ^ b).bit_count()


class NearDuplicates:
    """Hashes seen so far; ``find(h)`` tells the first one within ``max_distance`` bits of ``h``."""

    def __init__(self, max_distance: int) -> None:
        self.max_distance = max_distance
        self._hashes = np.zeros(1024, dtype=np.uint64)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def find(self, h: int) -> tuple[int, int] | None:
        """``(index, distance)`` of the first stored hash (in insertion order) within ``max_distance`` bits."""
        if not self._n:
            return None
        dist = np.bitwise_count(self._hashes[: self._n] ^ np.uint64(h))
        hits = np.flatnonzero(dist <= self.max_distance)
        return (int(hits[0]), int(dist[hits[0]])) if hits.size else None

    def add(self, h: int) -> int:
        """Store ``h``; returns its index."""
        if self._n == len(self._hashes):
            self._hashes = np.concatenate([self._hashes, np.zeros_like(self._hashes)])
        self._hashes[self._n] = h
        self._n += 1
        return self._n - 1
