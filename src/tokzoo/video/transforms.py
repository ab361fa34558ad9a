"""Clip transforms: the image evaluation protocol applied frame by frame."""

from __future__ import annotations

import torch

from tokzoo.data.transforms import eval_transform


def resize_clip(x: torch.Tensor, size: int) -> torch.Tensor:
    """``--size`` on clips (B, C, T, H, W): every frame through the image evaluation protocol (shorter side to
    ``size``, centre crop ``size`` x ``size``)."""
    b, c, t, h, w = x.shape
    frames = eval_transform(x.transpose(1, 2).reshape(b * t, c, h, w), size)
    return frames.reshape(b, t, c, size, size).transpose(1, 2)
