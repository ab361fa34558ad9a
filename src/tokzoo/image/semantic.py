"""Hierarchical semantic regularization of a flexible-length decoder (ReTok, 2026).

"ReTok: … Redundant Token Padding and Hierarchical Semantic Regularization" (2026): the decoder features obtained
from the early tokens are aligned with a frozen vision model's features, with a weight that decreases toward
the tail so later tokens are free to carry low-level detail. Here the decoder's patch features, projected to the
teacher's width, are aligned (negative cosine similarity) with the teacher's features resampled to the patch
grid, and a sample decoded from ``k`` of ``K`` tokens gets weight ``(K - k + 1) / K``.

The teacher is pluggable: any ``nn.Module`` mapping images (B, 3, H, W) in [0, 1] to features (B, C, h, w) or
(B, h*w, C), or the path of a tokzoo checkpoint whose encoder is used (offline, a tokzoo-trained tokenizer is
the teacher; a foundation model such as DINOv2 is a drop-in module where weights are available).
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from tokzoo.core.errors import ConfigError


def tail_decay_weights(lengths: torch.Tensor, num_tokens: int) -> torch.Tensor:
    """(B,) weights ``(K - k + 1) / K``: 1 for a sample decoded from one token, ``1/K`` from all ``K``."""
    return (num_tokens - lengths + 1).float() / num_tokens


def grid_features(features: torch.Tensor, grid: int) -> torch.Tensor:
    """Teacher output (B, C, h, w) or (B, h*w, C) → (B, grid*grid, C), resampled (bilinear) to ``grid``."""
    if features.dim() == 3:
        side = math.isqrt(features.shape[1])
        if side * side != features.shape[1]:
            raise ConfigError(f"teacher returned {features.shape[1]} tokens, not a square grid")
        features = features.transpose(1, 2).reshape(features.shape[0], -1, side, side)
    if features.dim() != 4:
        raise ConfigError(f"teacher features must be (B, C, h, w) or (B, N, C), got {tuple(features.shape)}")
    if features.shape[-2:] != (grid, grid):
        features = F.interpolate(features, size=(grid, grid), mode="bilinear", align_corners=False)
    return features.flatten(2).transpose(1, 2)


def alignment_loss(student: torch.Tensor, target: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Weighted mean over samples of ``1 - cos`` between (B, N, C) student and target features, per position."""
    cos = F.cosine_similarity(student, target.detach(), dim=-1).mean(dim=1)
    return ((1 - cos) * weights).sum() / weights.sum().clamp_min(1e-8)


class CheckpointTeacher(nn.Module):
    """The encoder features of a tokzoo checkpoint: ``features(x)`` when the tokenizer has it (the transformer
    tokenizers), else its convolutional ``encoder`` on ``2x - 1`` (the grid tokenizers)."""

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        from tokzoo.core.checkpoint import load

        self.model = load(path).eval().requires_grad_(False)
        if not hasattr(self.model, "features") and not hasattr(self.model, "encoder"):
            raise ConfigError(f"{path}: {type(self.model).__name__} exposes no encoder features to distil")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if hasattr(self.model, "features"):
            return self.model.features(x)
        return self.model.encoder(x * 2 - 1)


@torch.no_grad()
def teacher_width(teacher: nn.Module, image_size: int, channels: int = 3) -> int:
    """Channel count of ``teacher``'s features on one probe image."""
    device = next(iter(teacher.parameters()), torch.zeros(())).device
    out = teacher(torch.zeros(1, channels, image_size, image_size, device=device))
    return int(out.shape[1] if out.dim() == 4 else out.shape[-1])
