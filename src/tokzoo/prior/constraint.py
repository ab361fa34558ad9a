"""Constrained sampling: a callable that says which ids may follow a prefix (e.g. an SVG grammar).

A tokenizer that can constrain decoding exposes ``allowed_next(prefix) -> bool mask over its vocabulary``
(the SVG tokenizers do: :meth:`tokzoo.svg.tokenizer.SvgTokenizer.allowed_next`); a prefix for which nothing is
allowed is complete, so only the end symbol may follow it, and the end symbol is refused while anything else is
allowed. Samplers apply :func:`constrain` to the logits of every sequence at every step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

__all__ = ["Constraint", "constrain"]

Constraint = Callable[[Sequence[int]], torch.Tensor]


def constrain(
    logits: torch.Tensor, prefix: Sequence[int], allowed_next: Constraint, vocab_size: int
) -> torch.Tensor:
    """``logits`` (outputs,) with the ids ``allowed_next(prefix)`` forbids set to -inf; ``outputs`` is
    ``vocab_size`` or ``vocab_size + 1`` (the last being the end symbol)."""
    allowed = torch.as_tensor(allowed_next(list(prefix)), dtype=torch.bool).to(logits.device)
    if allowed.shape != (vocab_size,):
        raise ValueError(
            f"allowed_next gave a mask of shape {tuple(allowed.shape)}, expected ({vocab_size},)"
        )
    mask = torch.zeros(logits.shape[-1], dtype=torch.bool, device=logits.device)
    mask[:vocab_size] = allowed
    if logits.shape[-1] > vocab_size:
        mask[vocab_size] = not bool(allowed.any())
    if not bool(mask.any()):
        raise ValueError("the constraint allows nothing after this prefix and the prior has no end symbol")
    return logits.masked_fill(~mask, float("-inf"))
