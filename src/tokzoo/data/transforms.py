"""Resizing and cropping of float image tensors (C, H, W) or (B, C, H, W) in [0, 1], without torchvision.

Sizes are ``int`` (square) or ``(height, width)``. Random crops take an explicit ``torch.Generator``
so that a crop is a pure function of its seed.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from tokzoo.core.errors import DataError

Size = int | tuple[int, int]


def _hw(size: Size) -> tuple[int, int]:
    h, w = (size, size) if isinstance(size, int) else size
    if h < 1 or w < 1:
        raise ValueError(f"size must be positive, got {size}")
    return int(h), int(w)


def _check(x: torch.Tensor) -> None:
    if x.ndim not in (3, 4) or not x.is_floating_point():
        raise ValueError(f"expected a float tensor (C, H, W) or (B, C, H, W), got {x.dtype} {tuple(x.shape)}")


def resize(x: torch.Tensor, size: Size) -> torch.Tensor:
    """Resize to exactly ``size`` (an int means size x size) with antialiased bicubic; clamp to [0, 1]."""
    _check(x)
    h, w = _hw(size)
    if x.shape[-2:] == (h, w):
        return x
    batch = x if x.ndim == 4 else x.unsqueeze(0)
    out = F.interpolate(batch, size=(h, w), mode="bicubic", antialias=True, align_corners=False)
    out = out.clamp_(0.0, 1.0)
    return out if x.ndim == 4 else out.squeeze(0)


def resize_shorter(x: torch.Tensor, size: int) -> torch.Tensor:
    """Resize so that the shorter side equals ``size``, keeping the aspect ratio (longer side rounded)."""
    _check(x)
    h, w = x.shape[-2:]
    s = _hw(size)[0]
    if h <= w:
        return resize(x, (s, max(s, round(w * s / h))))
    return resize(x, (max(s, round(h * s / w)), s))


def _too_small(x: torch.Tensor, th: int, tw: int) -> DataError:
    h, w = x.shape[-2:]
    return DataError(f"image {h}x{w} (HxW) is smaller than the {th}x{tw} crop")


def center_crop(x: torch.Tensor, size: Size) -> torch.Tensor:
    """Crop the central ``size`` region (offsets floored); DataError if the image is smaller."""
    _check(x)
    th, tw = _hw(size)
    h, w = x.shape[-2:]
    if h < th or w < tw:
        raise _too_small(x, th, tw)
    top, left = (h - th) // 2, (w - tw) // 2
    return x[..., top : top + th, left : left + tw]


def random_crop(x: torch.Tensor, size: Size, generator: torch.Generator) -> torch.Tensor:
    """Crop a uniformly placed ``size`` region drawn from ``generator``; DataError if the image is smaller."""
    _check(x)
    th, tw = _hw(size)
    h, w = x.shape[-2:]
    if h < th or w < tw:
        raise _too_small(x, th, tw)
    top = int(torch.randint(0, h - th + 1, (1,), generator=generator))
    left = int(torch.randint(0, w - tw + 1, (1,), generator=generator))
    return x[..., top : top + th, left : left + tw]


def random_scale_crop(
    x: torch.Tensor, size: Size, scale: tuple[float, float], generator: torch.Generator
) -> torch.Tensor:
    """Downscale the image by a random factor, then take a random ``size`` crop.

    The linear factor is drawn uniformly from ``scale`` (1.0 = native resolution, 0.25 = a quarter of
    each side, so the crop covers more of the scene). It is raised where needed so that the resized
    image still contains the crop: at that bound the crop spans the image's whole shorter side, and
    images smaller than the crop are upscaled.
    """
    _check(x)
    th, tw = _hw(size)
    lo, hi = scale
    if not 0.0 < lo <= hi:
        raise ValueError(f"scale must satisfy 0 < min <= max, got {scale}")
    factor = lo + (hi - lo) * float(torch.rand((), generator=generator))
    h, w = x.shape[-2:]
    factor = max(factor, th / h, tw / w)
    x = resize(x, (max(th, round(h * factor)), max(tw, round(w * factor))))
    return random_crop(x, (th, tw), generator)


def eval_transform(x: torch.Tensor, size: int) -> torch.Tensor:
    """THE evaluation protocol: resize the shorter side to ``size`` (antialiased bicubic), then center-crop
    ``size`` x ``size``.

    Every metric in tokzoo is computed on images prepared this way, so results compare across
    tokenizers and runs.
    """
    return center_crop(resize_shorter(x, size), size)


def random_flip_permute(
    x: torch.Tensor, generator: torch.Generator, *, hflip: bool = True, rgb_permute: bool = False
) -> torch.Tensor:
    """Mirror left-right with probability 1/2 and/or shuffle the colour channels (one of the 6 orders).

    Channel shuffling teaches a tokenizer trained on few images to treat all hues alike (e.g. blue skies
    when the training photos are mostly red or grey).
    """
    _check(x)
    if hflip and float(torch.rand((), generator=generator)) < 0.5:
        x = x.flip(-1)
    if rgb_permute:
        x = x[..., torch.randperm(x.shape[-3], generator=generator), :, :]
    return x
