"""The ``Autoencoding`` protocol: a tokenizer whose training step is a reconstruction the trainer can see.

A tokenizer's ``loss(batch)`` is its own objective. Recipes that add terms computed on the reconstruction
(perceptual, adversarial, MS-SSIM; see ``tokzoo.train.objective``) need the reconstruction itself, the
bottleneck's own loss, and the last decoder weight (for VQGAN's adaptive adversarial weight). Tokenizers that
offer this implement ``autoencode`` and ``last_layer``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import torch


@dataclass
class AutoencodeOut:
    """One training reconstruction: ``rec`` (with gradient, same shape as the input), ``aux_loss`` (the
    tokenizer's losses that are not pixel losses: commitment, entropy, KL, semantic terms) and scalar ``logs``."""

    rec: torch.Tensor
    aux_loss: torch.Tensor
    logs: dict[str, torch.Tensor] = field(default_factory=dict)


@runtime_checkable
class Autoencoding(Protocol):
    """Tokenizers whose training forward pass can hand the reconstruction to the trainer."""

    def autoencode(self, batch: torch.Tensor) -> AutoencodeOut:
        """Training-mode reconstruction of ``batch`` (quantizer noise, token dropout, ... as in ``loss``)."""
        ...

    def last_layer(self) -> torch.Tensor:
        """The weight of the layer that produces the output (VQGAN's adaptive GAN weight uses its gradients)."""
        ...
