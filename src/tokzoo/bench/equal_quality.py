"""Classical codecs at equal quality: the smallest file with which a codec reaches a target PSNR.

Where :mod:`tokzoo.bench.codecs` fits a codec to a byte budget, :func:`codec_at_psnr` answers the dual
question a rate comparison at equal quality needs: how many bytes does JPEG / WebP / AVIF / JPEG XL need to
reproduce this image at least as well (PSNR) as a tokenizer did? A binary search on the codec's integer quality
finds the lowest setting whose decoded image reaches the target (PSNR grows with quality; where a codec is not
monotone the result still reaches the target, it may not be the very smallest such file).

At low rates every codec has a floor (its lowest quality); its PSNR there is often above a small tokenizer's,
and then the floor's size is only an upper bound on what the codec needs (``at_floor``). Coding a downscaled
image and upsampling the decoded one (bicubic) lets a codec go below its native floor, the classical remedy at
low bit rates ("Adaptive downsampling to improve image compression at low bit rates", Lin & Dong, 2006);
``scales`` tries several resolutions and keeps the smallest file that reaches the target.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from tokzoo.bench.codecs import BudgetSearch
from tokzoo.core.errors import ConfigError
from tokzoo.data.decode import image_to_tensor
from tokzoo.metrics.fidelity import psnr

__all__ = ["QualityMatch", "codec_at_psnr"]


@dataclass(frozen=True)
class QualityMatch:
    """A codec's smallest file reaching ``target`` dB (or, when none does, its best file).

    ``scale``: the resolution coded, relative to the image (1 = native); ``reached``: the file's PSNR is at
    least the target; ``at_floor``: the codec's lowest quality at this scale already exceeds the target, so
    ``nbytes`` is an upper bound on the bytes it needs."""

    codec: str
    target: float
    scale: float
    quality: int
    nbytes: int
    psnr: float
    reached: bool
    at_floor: bool

    def bpp(self, pixels: int) -> float:
        """Bits per pixel of the file for an image of ``pixels`` pixels."""
        return 8 * self.nbytes / pixels


def _resize(img: np.ndarray, width: int, height: int) -> np.ndarray:
    return np.asarray(Image.fromarray(img).resize((width, height), Image.Resampling.BICUBIC))


class _ScaledSearch:
    """The codec's files of ``img`` coded at ``scale`` of its size; PSNR measured at full size."""

    def __init__(self, img: np.ndarray, codec: str, scale: float) -> None:
        h, w = img.shape[:2]
        self.size = (max(1, round(w * scale)), max(1, round(h * scale)))
        self.full = (w, h)
        coded = img if self.size == self.full else _resize(img, *self.size)
        self.search = BudgetSearch(coded, codec)
        self.reference = image_to_tensor(img)[None]
        self._psnr: dict[int, float] = {}

    def psnr(self, quality: int) -> float:
        if quality not in self._psnr:
            out = self.search.codec.decode(self.search.file(quality))
            if out.shape[:2] != self.full[::-1]:
                out = _resize(np.ascontiguousarray(out), *self.full)
            self._psnr[quality] = float(psnr(image_to_tensor(out)[None], self.reference)[0])
        return self._psnr[quality]

    def match(self, target: float, scale: float) -> QualityMatch:
        qs = self.search.codec.qualities
        reaches = lambda i: self.psnr(qs[i]) >= target  # noqa: E731
        if not reaches(len(qs) - 1):
            i, reached = len(qs) - 1, False
        elif reaches(0):
            i, reached = 0, True
        else:
            lo, hi = 0, len(qs) - 1  # invariant: lo does not reach, hi does
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (lo, mid) if reaches(mid) else (mid, hi)
            i, reached = hi, True
        q = qs[i]
        return QualityMatch(self.search.codec.name, target, scale, q, len(self.search.file(q)), self.psnr(q),
                            reached, reached and i == 0)  # fmt: skip


def codec_at_psnr(
    img: np.ndarray, codec: str, target: float, scales: Sequence[float] = (1.0,)
) -> QualityMatch:
    """The smallest ``codec`` file of the HxWx3 uint8 ``img`` whose decoded image (upsampled back when coded
    at a ``scale`` < 1) reaches ``target`` dB PSNR, over the given scales; when no file reaches it, the file of
    highest PSNR (``reached`` False). ConfigError for an empty or out-of-range scale list."""
    if not scales or any(not 0 < s <= 1 for s in scales):
        raise ConfigError(f"scales must be a non-empty list of numbers in (0, 1], got {list(scales)}")
    matches = [_ScaledSearch(img, codec, s).match(target, s) for s in scales]
    hits = [m for m in matches if m.reached]
    if hits:
        return min(hits, key=lambda m: (m.nbytes, -m.scale))
    return max(matches, key=lambda m: m.psnr)
