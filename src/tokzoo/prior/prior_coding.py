"""Entropy coding with a prior: an :class:`~tokzoo.prior.ar.ARPrior` drives the arithmetic coder.

Each sample is coded in the prior's generation order (:mod:`tokzoo.prior.layout`); the prior's distribution
over the ids (the end symbol excluded and renormalised away: lengths are in the file header) is quantised to
integer frequencies with a floor (:func:`~tokzoo.prior.frequencies.quantize`), one step at a time through the
key/value cache, identically on the encoding and decoding side. The coded size then approaches the prior's
negative log-likelihood, the rate a tokenizer's tokens really cost under a model of them (the argument of
"Language Modeling Is Compression", Delétang et al., 2024).

Encoder and decoder must run the same prior on the same kind of device and torch build: the floats behind the
frequencies must agree bit for bit.
"""

from __future__ import annotations

import numpy as np
import torch

from tokzoo.prior.ar import ARPrior
from tokzoo.prior.frequencies import quantize
from tokzoo.prior.layout import depth_order

__all__ = ["PriorCodingModel"]


class _PriorSymbols:
    """The prior's frequencies for one sample, step by step through the cache."""

    def __init__(self, prior: ARPrior, classes: torch.Tensor | None) -> None:
        self.prior, self.classes = prior, classes
        self.cache = prior.new_cache()
        self.ids: list[int] = []
        self.group, self.within = 0, 0
        self.probs: np.ndarray | None = None

    def frequencies(self) -> np.ndarray:
        if self.probs is None:
            with torch.no_grad():
                ids = torch.tensor([self.ids], dtype=torch.int64)
                logits = self.prior.step(ids, self.group, self.cache, self.classes)[0]
            v = self.prior.seq.vocab_size
            self.probs = logits[:, :v].double().softmax(-1).cpu().numpy()
        return quantize(self.probs[self.within])

    def update(self, symbol: int) -> None:
        self.ids.append(symbol)
        self.within += 1
        if self.within == self.prior.seq.groups[self.group]:
            self.group, self.within, self.probs = self.group + 1, 0, None


class PriorCodingModel:
    """A :class:`~tokzoo.prior.container.CodingModel` from a trained AR prior (``name`` names it in files)."""

    def __init__(self, prior: ARPrior, name: str = "prior", classes: torch.Tensor | None = None) -> None:
        if not isinstance(prior, ARPrior):
            raise ValueError(f"entropy coding needs an autoregressive prior, not {type(prior).__name__}")
        self.prior = prior.eval()
        self.name = name
        self.classes = classes

    def _check(self, layout: str, shape: tuple[int, ...], length: int) -> None:
        seq = self.prior.seq
        if layout != seq.layout or (not seq.variable and tuple(shape) != seq.shape) or length > seq.length:
            raise ValueError(
                f"the prior models {seq.layout} {seq.shape} (<= {seq.length} ids), not {layout} {shape}"
            )
        if not seq.variable and length != seq.length:
            raise ValueError(f"{layout} samples must have {seq.length} ids, got {length}")

    def for_sample(self, layout: str, shape: tuple[int, ...], length: int) -> _PriorSymbols:
        self._check(layout, shape, length)
        return _PriorSymbols(self.prior, self.classes)

    def order(self, layout: str, shape: tuple[int, ...], length: int) -> list[int]:
        """Generation order: stored index of the k-th generated id (position-major for RVQ depths)."""
        self._check(layout, shape, length)
        if not layout.endswith("+depth"):
            return list(range(length))
        return depth_order(tuple(shape)).tolist()
