"""Full-reference image fidelity, computed the way a user would see the result.

Protocol: both images are clipped to [0, 1] and rounded to uint8 levels (what a saved PNG holds) before any
metric; PSNR and SSIM come from torchmetrics with ``data_range=1`` and are reported per image.
"""

from __future__ import annotations

import torch
from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure


def quantize_uint8(x: torch.Tensor) -> torch.Tensor:
    """Clip to [0, 1] and round to the 256 levels of an 8-bit image (values stay float in [0, 1])."""
    return torch.round(x.clamp(0, 1) * 255) / 255


PSNR_CAP_DB = 100.0


def psnr(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-image PSNR in dB of (B, C, H, W) batches in [0, 1], after uint8 rounding.

    Identical images would give +inf; they are reported as ``PSNR_CAP_DB`` (100 dB) so means stay finite.
    """
    p, t = quantize_uint8(pred.float()), quantize_uint8(target.float())
    value = peak_signal_noise_ratio(p, t, data_range=1.0, reduction="none", dim=(1, 2, 3))
    return value.clamp(max=PSNR_CAP_DB)


def ssim(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-image SSIM (Gaussian window 11, σ 1.5) of (B, C, H, W) batches in [0, 1], after uint8 rounding."""
    p, t = quantize_uint8(pred.float()), quantize_uint8(target.float())
    return structural_similarity_index_measure(p, t, data_range=1.0, reduction="none")
