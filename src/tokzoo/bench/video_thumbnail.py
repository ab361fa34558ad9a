"""The equal-bits thumbnail floor extended to video: a t x s x s RGB clip at 8 bits per channel, upsampled.

A clip of T frames at H x W stored as t frames of s x s (24·t·s² bits), averaged over time and shrunk
(antialiased bicubic), rounded to uint8, then interpolated back linearly in time and bicubically in space. At a
bit budget B the floor is the best of the (t, s) with the largest s for each t (24·t·s² ≤ B). A video tokenizer
below it at equal bits is not compressing.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from tokzoo.metrics.fidelity import quantize_uint8


def thumbnail_shapes(bits: float, frames: int) -> list[tuple[int, int]]:
    """The (t, s) candidates at ``bits``: every t in 1..frames with its largest s ≥ 1 (24·t·s² ≤ bits)."""
    out = []
    for t in range(1, frames + 1):
        s = math.isqrt(int(bits) // (24 * t))
        if s >= 1:
            out.append((t, s))
    return out


def _spatial(x: torch.Tensor, size: tuple[int, int], antialias: bool) -> torch.Tensor:
    b, c, t, h, w = x.shape
    frames = x.transpose(1, 2).reshape(b * t, c, h, w)
    out = F.interpolate(frames, size=size, mode="bicubic", antialias=antialias, align_corners=False)
    return out.reshape(b, t, c, *size).transpose(1, 2)


def thumbnail_clip(x: torch.Tensor, t: int, s: int) -> torch.Tensor:
    """Reconstruction of (B, 3, T, H, W) clips in [0, 1] from their t x s x s uint8 thumbnails."""
    if t < 1 or s < 1:
        raise ValueError(f"thumbnail needs t, s >= 1, got {t=}, {s=}")
    b, c, frames, h, w = x.shape
    small = _spatial(x, (s, s), antialias=True)
    small = quantize_uint8(F.interpolate(small, size=(t, s, s), mode="area"))
    up = (
        F.interpolate(small, size=(frames, s, s), mode="trilinear", align_corners=True)
        if t > 1
        else (small.expand(b, c, frames, s, s))
    )
    return _spatial(up, (h, w), antialias=False).clamp(0, 1)
