"""The equal-bits thumbnail: the floor every image tokenizer must clear.

An s×s RGB thumbnail at 8 bits per channel costs 24·s² bits; upsampled bicubically it is a trivial codec.
At a tokenizer's bit budget B we use the largest s with 24·s² ≤ B (4×4 = 384 bits = 32 tokens × 12 bits).
A tokenizer that scores below it at equal bits is not compressing.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from tokzoo.metrics.fidelity import quantize_uint8


def thumbnail_side(bits: float) -> int:
    """Largest s with 24·s² ≤ ``bits`` (0 when even a 1×1 thumbnail does not fit)."""
    return math.isqrt(int(bits) // 24)


def thumbnail_reconstruct(x: torch.Tensor, side: int) -> torch.Tensor:
    """Downscale (B, 3, H, W) in [0, 1] to side×side (antialiased), round to uint8, upscale bicubically."""
    if side < 1:
        raise ValueError("thumbnail side must be at least 1 (the bit budget is below 24 bits)")
    small = F.interpolate(x, size=(side, side), mode="bicubic", antialias=True, align_corners=False)
    small = quantize_uint8(small)
    up = F.interpolate(small, size=x.shape[-2:], mode="bicubic", align_corners=False)
    return up.clamp(0, 1)
