"""AdaToken-3D: staged pruning of spatial tokens, guided by the last instruction token.

"AdaToken-3D: Dynamic Spatial Gating for Efficient 3D Large Multimodal-Models Reasoning" (2025) measures how much
each spatial (3-D scene) token contributes to the answer through the attention the instruction pays it, and
prunes the low contributors at several depths of the model. Here the contribution at a stage is the attention
of the **last instruction token** (its query row only, ``tokzoo.reduce.attention``) to each token; ``patch``
applies it at ``stages`` depths with a budget that shrinks geometrically to ``keep``.
"""

from __future__ import annotations

from typing import Any

import torch

from tokzoo.core.errors import DataError
from tokzoo.reduce.attention import query_attention
from tokzoo.reduce.method import ScoredPruning


class AdaToken3D(ScoredPruning):
    """Keep the tokens the last instruction token attends most. Context ``instruction`` (B, T, D) query states
    (projected queries when ``keys`` are given) with optional ``instruction_lengths`` (B,), or ``scores``."""

    name = "adatoken3d"
    context = frozenset({"instruction", "instruction_lengths", "keys", "scores"})
    query_rows = "last"

    def __init__(self, protected: int = 0, heads: int = 1, stages: tuple[int, ...] | None = None) -> None:
        super().__init__(protected)
        self.heads = heads
        self.stages = (
            None if stages is None else tuple(stages)
        )  # blocks that prune under patch (None: 1..end)

    def _scores(self, x: torch.Tensor, valid: torch.Tensor | None, **context: Any) -> torch.Tensor:
        if context.get("scores") is not None:
            return context["scores"]
        instruction = context.get("instruction")
        if instruction is None or instruction.dim() != 3 or instruction.shape[0] != x.shape[0]:
            raise DataError("adatoken3d needs `instruction` (B, T, D) or `scores`")
        lengths = context.get("instruction_lengths")
        last = instruction.shape[1] - 1 if lengths is None else lengths.to(x.device) - 1
        rows = torch.arange(len(x), device=x.device)
        query = instruction[rows, last][:, None] if lengths is not None else instruction[:, -1:]
        keys = context.get("keys")
        return query_attention(query, x if keys is None else keys, self.heads, valid)
