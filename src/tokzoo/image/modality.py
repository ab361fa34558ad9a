"""The image modality plugin: float (B, 3, H, W) in [0, 1], image files, random-crop datasets, ``tokzoo eval``."""

from __future__ import annotations

from typing import Any

import torch

from tokzoo.core.modality import Modality, register_modality
from tokzoo.core.tokens import Tokens
from tokzoo.data.folder import IMAGE_EXTENSIONS
from tokzoo.data.transforms import eval_transform
from tokzoo.image.dataset import build_crop_dataset


def _evaluator() -> Any:
    from tokzoo.image.evaluate import ImageEvaluator

    return ImageEvaluator()


def _bits_per_pixel(x: torch.Tensor, tokens: Tokens) -> str:
    h, w = x.shape[-2:]
    return f"{tokens.nbits() / (h * w):.4f} bpp"


IMAGE = register_modality(
    Modality(
        name="image",
        data="float tensors (B, 3, H, W) in [0, 1]",
        suffixes=(".png", *(s for s in IMAGE_EXTENSIONS if s != ".png")),
        dataset=build_crop_dataset,
        evaluator=_evaluator,
        resize=eval_transform,
        rate=_bits_per_pixel,
    )
)
