"""Gradient (activation) checkpointing for the shared blocks: trade compute for memory in GPU runs.

Blocks that support it (``ResBlock``, ViT ``Block``) carry a ``grad_checkpointing`` flag; when it is set and
the block runs in training mode with gradients enabled, its activations are recomputed in the backward pass
(``torch.utils.checkpoint``, non-reentrant) instead of being stored. Results are identical; memory drops.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint


class Checkpointable(nn.Module):
    """Mixin for blocks whose ``forward`` may be recomputed in the backward pass."""

    grad_checkpointing: bool = False

    def run(self, fn: Callable[..., torch.Tensor], *args: Any) -> torch.Tensor:
        """``fn(*args)``, checkpointed when this block's flag is on and it is training with gradients."""
        if self.grad_checkpointing and self.training and torch.is_grad_enabled():
            return checkpoint(fn, *args, use_reentrant=False)
        return fn(*args)


def set_grad_checkpointing(model: nn.Module, enabled: bool = True) -> int:
    """Turn checkpointing on/off in every checkpointable block of ``model``; returns how many blocks."""
    blocks = [m for m in model.modules() if isinstance(m, Checkpointable)]
    for m in blocks:
        m.grad_checkpointing = enabled
    return len(blocks)
