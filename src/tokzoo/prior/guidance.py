"""Classifier-free guidance ("Classifier-Free Diffusion Guidance", Ho & Salimans, 2022) for priors over tokens.

A prior trained with its class dropped for a fraction of the samples (``PriorTrainConfig.class_dropout``) is
both a conditional and an unconditional model; sampling mixes their logits.
"""

from __future__ import annotations

import torch

__all__ = ["guide", "with_unconditional"]


def with_unconditional(classes: torch.Tensor, num_classes: int) -> torch.Tensor:
    """``classes`` followed by as many "no class" ids: one batch runs the conditional and unconditional model."""
    return torch.cat([classes, torch.full_like(classes, num_classes)])


def guide(cond: torch.Tensor, uncond: torch.Tensor, scale: float) -> torch.Tensor:
    """Classifier-free guidance on logits: ``uncond + scale * (cond - uncond)`` (1: conditional, 0:
    unconditional, > 1: sharper class; "Classifier-Free Diffusion Guidance", Ho & Salimans, 2022)."""
    return uncond + scale * (cond - uncond)
