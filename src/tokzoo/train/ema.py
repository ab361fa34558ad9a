"""An exponential moving average (EMA) of a model's weights, kept beside the raw weights during training.

Weight averaging of this kind ("Acceleration of Stochastic Approximation by Averaging", Polyak & Juditsky,
1992) is part of most published tokenizer recipes (e.g. MaskGIT, LlamaGen, TiTok): the averaged weights are
the ones evaluated and shipped. The decay warms up as ``min(decay, (1 + s) / (10 + s))`` at update ``s`` so
that early, badly initialised weights are forgotten quickly; the whole state is a function of the step, so a
resumed run continues the same average.
"""

from __future__ import annotations

import torch
from torch import nn


class EMA:
    """Shadow copies (float32) of a model's floating-point parameters and buffers."""

    PREFIX = "ema/"

    def __init__(self, model: nn.Module, decay: float) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must be in (0, 1), got {decay}")
        self.decay = decay
        self.shadow = {
            k: v.detach().float().clone() for k, v in model.state_dict().items() if v.is_floating_point()
        }

    def decay_at(self, step: int) -> float:
        """The decay used at update ``step`` (0-based): warmed up, then constant."""
        return min(self.decay, (1 + step) / (10 + step))

    @torch.no_grad()
    def update(self, model: nn.Module, step: int) -> None:
        """Move the shadow weights towards ``model``'s current weights."""
        weight = 1.0 - self.decay_at(step)
        for k, v in model.state_dict().items():
            if k in self.shadow:
                self.shadow[k].lerp_(v.detach().float(), weight)

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """The shadow weights as named tensors (``ema/<name>``) for a training checkpoint."""
        return {self.PREFIX + k: v.contiguous() for k, v in self.shadow.items()}

    def load_state_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        """Restore the shadow weights written by ``state_tensors``; KeyError names a missing one."""
        for k in self.shadow:
            self.shadow[k] = tensors[self.PREFIX + k].float().clone()

    @torch.no_grad()
    def copy_to(self, model: nn.Module) -> nn.Module:
        """Load the averaged weights into ``model`` (same architecture); integer buffers are left as they are."""
        state = model.state_dict()
        for k, v in self.shadow.items():
            state[k].copy_(v.to(state[k].dtype))
        return model
