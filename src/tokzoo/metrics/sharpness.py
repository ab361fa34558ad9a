"""Sharpness of a reconstruction relative to its original: the high-frequency energy ratio.

Blur is what pixel losses buy at low rates, and PSNR rewards it. The ratio of the Laplacian energy of the
reconstruction to that of the original (per image, on luma) tells how much fine detail survives: 1 is as
sharp as the original, below 1 blurrier, above 1 noisier or with invented texture (e.g. a GAN's).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

_LAPLACIAN = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])
_LUMA = torch.tensor([0.299, 0.587, 0.114])


def laplacian_energy(x: torch.Tensor) -> torch.Tensor:
    """Mean squared Laplacian of the luma of (B, 3, H, W) images in [0, 1]; (B,)."""
    luma = (x * _LUMA.to(x).view(1, 3, 1, 1)).sum(1, keepdim=True)
    lap = F.conv2d(luma, _LAPLACIAN.to(x).view(1, 1, 3, 3))
    return lap.pow(2).mean(dim=(1, 2, 3))


def hf_energy_ratio(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-image ``laplacian_energy(pred) / laplacian_energy(target)`` (a flat target counts as 1e-12)."""
    return laplacian_energy(pred) / laplacian_energy(target).clamp_min(1e-12)
