"""Input checks of video tokenizers: one clear error instead of a shape mismatch deep inside."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from tokzoo.core.errors import DataError

if TYPE_CHECKING:
    from tokzoo.core.tokens import Tokens
    from tokzoo.quant import Bottleneck


def as_clip_batch(x: torch.Tensor) -> torch.Tensor:
    """A (B, C, T, H, W) clip batch; an image batch (B, C, H, W) becomes a batch of one-frame clips."""
    if not isinstance(x, torch.Tensor) or x.dim() not in (4, 5):
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise DataError(f"expected clips (B, C, T, H, W) or images (B, C, H, W), got {shape}")
    return x.unsqueeze(2) if x.dim() == 4 else x


def check_clip_batch(x: torch.Tensor, *, channels: int, factor: int, time_factor: int) -> None:
    """Require float clips (B, C, 1 + time_factor·k, H, W) in [0, 1] with H, W positive multiples of ``factor``."""
    if not x.is_floating_point():
        raise DataError(f"expected float clips in [0, 1], got dtype {x.dtype} (divide uint8 by 255)")
    _b, c, t, h, w = x.shape
    if c != channels:
        raise DataError(f"expected {channels} channels, got {c} (shape {tuple(x.shape)})")
    if (t - 1) % time_factor:
        raise DataError(
            f"a clip of {t} frames: this tokenizer codes 1 + {time_factor}·k frames (the first frame alone, then "
            f"groups of {time_factor}); trim it to {1 + (t - 1) // time_factor * time_factor}"
        )
    if h < factor or w < factor or h % factor or w % factor:
        raise DataError(
            f"frame size {h}x{w} is not a positive multiple of the tokenizer's downsampling factor {factor} "
            "(resize or crop it first, e.g. `--size`)"
        )


def usable_frames(t: int, time_factor: int) -> int:
    """The most frames of the form 1 + time_factor·k in a clip of ``t`` frames."""
    return 1 + (t - 1) // time_factor * time_factor


def grid3d_shape(tokens: Tokens, bottleneck: Bottleneck) -> tuple[int, int, int]:
    """The (t, h, w) token grid of a video tokenizer's ``tokens``; DataError for any other layout or shape."""
    if tokens.layout not in ("grid3d", "grid3d+depth"):
        raise DataError(f"expected grid3d tokens, got layout {tokens.layout!r} with shape {tokens.shape}")
    shape = bottleneck.positions(tokens)
    if len(shape) != 3 or min(shape) < 1:
        raise DataError(f"expected a (t, h, w) grid of tokens, got shape {tokens.shape}")
    return (int(shape[0]), int(shape[1]), int(shape[2]))
