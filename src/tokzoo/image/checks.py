"""Input checks shared by image tokenizers: one clear error instead of a shape mismatch deep inside."""

from __future__ import annotations

import torch

from tokzoo.core.errors import DataError


def check_image_batch(x: torch.Tensor, *, channels: int, factor: int) -> None:
    """Require a float (B, C, H, W) batch in [0, 1] whose sides are positive multiples of ``factor``."""
    if not isinstance(x, torch.Tensor) or x.dim() != 4:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise DataError(f"expected an image batch of shape (B, C, H, W), got {shape}")
    if not x.is_floating_point():
        raise DataError(f"expected float images in [0, 1], got dtype {x.dtype} (divide uint8 by 255)")
    if x.shape[1] != channels:
        raise DataError(f"expected {channels} channels, got {x.shape[1]} (shape {tuple(x.shape)})")
    h, w = x.shape[-2:]
    if h < factor or w < factor:
        raise DataError(f"image too small: {h}x{w}, this tokenizer needs at least {factor}x{factor}")
    if h % factor or w % factor:
        raise DataError(
            f"image size {h}x{w} is not a multiple of the tokenizer's downsampling factor {factor} "
            "(resize or crop it first, e.g. `--size`)"
        )
