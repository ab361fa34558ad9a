"""Fidelity of clips: per-frame PSNR / SSIM (the image protocol, frame by frame) and temporal flicker."""

from __future__ import annotations

import torch

from tokzoo.metrics.fidelity import psnr, quantize_uint8, ssim


def _frames(x: torch.Tensor) -> torch.Tensor:
    """(B, C, T, H, W) clips as (B*T, C, H, W) frames."""
    if x.dim() != 5:
        raise ValueError(f"expected clips (B, C, T, H, W), got shape {tuple(x.shape)}")
    return x.transpose(1, 2).flatten(0, 1)


def frame_psnr(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """PSNR (dB) of every frame of (B, C, T, H, W) clips in [0, 1], after uint8 rounding: (B, T)."""
    return psnr(_frames(pred), _frames(target)).reshape(target.shape[0], target.shape[2])


def frame_ssim(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """SSIM of every frame of (B, C, T, H, W) clips in [0, 1], after uint8 rounding: (B, T)."""
    return ssim(_frames(pred), _frames(target)).reshape(target.shape[0], target.shape[2])


def flicker(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Temporal flicker per clip: the mean absolute difference, in 8-bit levels, between the reconstruction's
    and the original's consecutive-frame differences, (B,); 0 for one-frame clips and for any reconstruction
    that changes over time exactly as the original does."""
    p, t = quantize_uint8(pred.float()) * 255, quantize_uint8(target.float()) * 255
    if t.shape[2] < 2:
        return torch.zeros(t.shape[0])
    return ((p.diff(dim=2) - t.diff(dim=2)).abs()).mean(dim=(1, 2, 3, 4))
