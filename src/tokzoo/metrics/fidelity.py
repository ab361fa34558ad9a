"""Full-reference image fidelity, computed the way a user would see the result.

Protocol: both images are clipped to [0, 1] and rounded to uint8 levels (what a saved PNG holds) before any
metric; every metric comes from torchmetrics (PSNR and SSIM with ``data_range=1``) and is reported per image.
Metrics that are undefined for an input (MS-SSIM and VIF on small images) return None, never a made-up number.
"""

from __future__ import annotations

import torch
from torchmetrics.functional.image import (
    multiscale_structural_similarity_index_measure,
    peak_signal_noise_ratio,
    spectral_angle_mapper,
    structural_similarity_index_measure,
    universal_image_quality_index,
    visual_information_fidelity,
)


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


MS_SSIM_KERNEL = 11
MS_SSIM_SCALES = 5


def ms_ssim_min_side(kernel_size: int = MS_SSIM_KERNEL, scales: int = MS_SSIM_SCALES) -> int:
    """Smallest image side torchmetrics' MS-SSIM accepts (176 px for 5 scales and an 11-px window).

    torchmetrics requires ``side // (scales - 1)**2 > kernel_size - 1``.
    """
    return kernel_size * max(1, scales - 1) ** 2


def ms_ssim(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor | None:
    """Per-image MS-SSIM (5 scales, window 11, standard weights) after uint8 rounding, or None.

    MS-SSIM ("Multiscale structural similarity for image quality assessment", Wang et al., 2003) halves the
    image four times; it is only computed when the shorter side is at least ``ms_ssim_min_side()`` (176 px),
    so smaller images give None — callers report "unavailable (image too small)" rather than a number.
    """
    if min(pred.shape[-2:]) < ms_ssim_min_side():
        return None
    p, t = quantize_uint8(pred.float()), quantize_uint8(target.float())
    value = multiscale_structural_similarity_index_measure(
        p, t, data_range=1.0, kernel_size=MS_SSIM_KERNEL, reduction="none"
    )
    return value.reshape(-1)


def uqi(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-image universal image quality index (Gaussian window 11, σ 1.5) after uint8 rounding.

    "A universal image quality index" (Wang & Bovik, 2002): correlation × luminance × contrast similarity,
    1 for identical images; the local map is averaged over channels and positions.
    """
    p, t = quantize_uint8(pred.float()), quantize_uint8(target.float())
    return universal_image_quality_index(p, t, reduction="none").mean(dim=(1, 2, 3))


VIF_MIN_SIDE = 41


def vif(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor | None:
    """Per-image pixel-domain visual information fidelity (VIF-p) after uint8 rounding, or None.

    "Image information and visual quality" (Sheikh & Bovik, 2006). Computed on the 0–255 scale the model's
    noise variance (σ²_n = 2) is defined for; 1 for identical images. torchmetrics needs a side of at least
    ``VIF_MIN_SIDE`` (41 px): smaller images give None. A flat image has no information to keep: NaN.
    """
    if min(pred.shape[-2:]) < VIF_MIN_SIDE:
        return None
    p, t = quantize_uint8(pred.float()) * 255, quantize_uint8(target.float()) * 255
    return visual_information_fidelity(p, t, reduction="none").reshape(-1)


def sam(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-image mean spectral angle in radians between RGB pixel vectors after uint8 rounding (0 = same hue).

    "The spectral image processing system (SIPS)" (Kruse et al., 1993). A black pixel has no direction, so
    pixels black in either image are left out of the mean; an image with no such pixel left gives NaN.
    """
    p, t = quantize_uint8(pred.double()), quantize_uint8(target.double())  # float32 acos(1) is ~1e-4 off
    angles = spectral_angle_mapper(p, t, reduction="none")
    return angles.nanmean(dim=(1, 2)).float()
