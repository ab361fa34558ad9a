"""Random keep: the baseline every reduction method must beat.

Uniformly random token subsets, as in "Scaling Language-Image Pre-training via Masking" (FLIP; Li et al., 2023),
which drops random image patches inside the encoder.
"""

from __future__ import annotations

from typing import Any

import torch

from tokzoo.reduce.method import ScoredPruning


class RandomKeep(ScoredPruning):
    """Keep a uniformly random subset (protected tokens always). ``seed`` fixes the draw: the same seed gives
    the same subset for the same batch shape, whatever the budgets (a smaller budget keeps a subset of a larger
    one). ``seed=None`` draws from torch's global generator, a fresh subset per call (FLIP-style training)."""

    name = "random"

    def __init__(self, protected: int = 0, seed: int | None = 0) -> None:
        super().__init__(protected)
        self.seed = seed

    def _scores(self, x: torch.Tensor, valid: torch.Tensor | None, **context: Any) -> torch.Tensor:
        generator = None if self.seed is None else torch.Generator().manual_seed(self.seed)
        return torch.rand(x.shape[:2], generator=generator).to(x.device)
