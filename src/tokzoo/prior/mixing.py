"""Adaptive building blocks for context models that drive the arithmetic coder, and model mixing.

- :class:`AdaptiveCounts`: a frequency table over a small alphabet that learns from every coded symbol (the
  adaptive model of "Arithmetic Coding for Data Compression", Witten, Neal & Cleary, 1987), with count halving
  so it follows drifting statistics; :func:`counts_table` keeps one per context, as PPM/CM coders do.
- :class:`FixedShareMixer`: a linear mixture of several distributions over the same alphabet whose weights
  follow the components' recent predictive performance (Bayesian mixture with fixed share, "Tracking the Best
  Expert", Herbster & Warmuth, 1998): a component that predicted well gains weight, none ever drops below
  ``alpha / K``.
- :func:`laplace`: a discretised two-sided geometric distribution around a (predicted) value, the residual
  model of predictive coders ("LOCO-I", Weinberger, Seroussi & Sapiro, 2000).
- :class:`MixtureCodingModel` mixes whole coding models (e.g. a context model and a learned AR prior) symbol by
  symbol; :class:`WindowedModel` restarts a fixed-length model (a prior trained on windows) every ``window``
  symbols of a longer sample.

Everything is deterministic float64 arithmetic driven only by already-coded symbols, so encoder and decoder
compute identical frequencies.
"""

from __future__ import annotations

import numpy as np

from tokzoo.prior.coder import SymbolModel
from tokzoo.prior.container import CodingModel
from tokzoo.prior.frequencies import quantize

__all__ = [
    "AdaptiveCounts",
    "FixedShareMixer",
    "MixtureCodingModel",
    "WindowedModel",
    "counts_table",
    "laplace",
]


class AdaptiveCounts:
    """Counts over ``size`` symbols starting at ``prior`` each, +1 per coded symbol; when the counts above the
    prior exceed ``limit`` they are halved (recent symbols weigh more)."""

    def __init__(self, size: int, prior: float = 0.5, limit: float = 1024.0) -> None:
        if size < 1 or not prior > 0:
            raise ValueError(f"AdaptiveCounts needs size >= 1 and prior > 0, got {size}, {prior}")
        self.prior, self.limit = prior, limit
        self.counts = np.full(size, prior, dtype=np.float64)
        self.seen = 0.0

    def probs(self) -> np.ndarray:
        """Current probabilities (sum to 1)."""
        return self.counts / self.counts.sum()

    def update(self, symbol: int) -> None:
        self.counts[symbol] += 1.0
        self.seen += 1.0
        if self.seen > self.limit:
            self.counts = (self.counts - self.prior) * 0.5 + self.prior
            self.seen *= 0.5


def counts_table(tables: dict, key: object, size: int, prior: float = 0.5) -> AdaptiveCounts:
    """The :class:`AdaptiveCounts` of context ``key`` in ``tables``, created on first use."""
    table = tables.get(key)
    if table is None:
        table = tables[key] = AdaptiveCounts(size, prior)
    return table


class FixedShareMixer:
    """Weights over ``k`` component distributions: ``w_i <- (1 - alpha) * w_i p_i(x) / sum + alpha / k``."""

    def __init__(self, k: int, alpha: float = 0.02) -> None:
        self.w = np.full(k, 1.0 / k)
        self.alpha = alpha

    def mix(self, components: np.ndarray) -> np.ndarray:
        """(V,) mixture of the (k, V) component distributions (each summing to 1)."""
        return self.w @ components

    def update(self, likelihoods: np.ndarray) -> None:
        """Bayes step with the probabilities ``(k,)`` each component gave the coded symbol, then the share."""
        w = self.w * np.asarray(likelihoods, dtype=np.float64)
        s = w.sum()
        w = w / s if s > 0 else np.full_like(w, 1.0 / len(w))
        self.w = (1 - self.alpha) * w + self.alpha / len(w)


def laplace(center: float, scale: float, size: int) -> np.ndarray:
    """(size,) probabilities proportional to ``exp(-|a - center| / scale)`` over ``a = 0 .. size-1``."""
    a = np.arange(size, dtype=np.float64)
    p = np.exp(-np.abs(a - center) / max(scale, 1e-3))
    return p / p.sum()


def _probs(freqs: np.ndarray) -> np.ndarray:
    f = np.asarray(freqs, dtype=np.float64)
    return f / f.sum()


class _MixedSymbols:
    def __init__(self, parts: list[SymbolModel], mixer: FixedShareMixer) -> None:
        self.parts, self.mixer = parts, mixer
        self.last: np.ndarray | None = None

    def frequencies(self) -> np.ndarray:
        self.last = np.stack([_probs(p.frequencies()) for p in self.parts])
        return quantize(self.mixer.mix(self.last))

    def update(self, symbol: int) -> None:
        if self.last is None:
            self.frequencies()
        self.mixer.update(self.last[:, symbol])
        self.last = None
        for p in self.parts:
            p.update(symbol)


class MixtureCodingModel:
    """Linear mixing of coding models that code samples in stored order (weights per sample, fixed share).

    The mixture costs at most ``log2(k)`` bits more than its best component over a sample, plus the share.
    """

    def __init__(self, models: list[CodingModel], name: str, alpha: float = 0.02) -> None:
        if len(models) < 1:
            raise ValueError("a mixture needs at least one model")
        self.models, self.name, self.alpha = models, name, alpha

    def for_sample(self, layout: str, shape: tuple[int, ...], length: int) -> SymbolModel:
        for m in self.models:
            if m.order(layout, shape, length) != list(range(length)):
                raise ValueError(f"model {m.name!r} codes out of stored order; it cannot be mixed")
        parts = [m.for_sample(layout, shape, length) for m in self.models]
        return _MixedSymbols(parts, FixedShareMixer(len(parts), self.alpha))

    def order(self, layout: str, shape: tuple[int, ...], length: int) -> list[int]:
        """Stored order."""
        return list(range(length))


class _Windowed:
    def __init__(self, model: CodingModel, layout: str, window: int, length: int) -> None:
        self.model, self.layout, self.window, self.length = model, layout, window, length
        self.done = 0
        self.current: SymbolModel | None = None

    def _part(self) -> SymbolModel:
        if self.current is None:
            n = min(self.window, self.length - self.done)
            self.current = self.model.for_sample(self.layout, (self.window,), n)
        return self.current

    def frequencies(self) -> np.ndarray:
        return self._part().frequencies()

    def update(self, symbol: int) -> None:
        self._part().update(symbol)
        self.done += 1
        if self.done % self.window == 0:
            self.current = None


class WindowedModel:
    """A model of ``window``-long samples applied to longer ones: it restarts every ``window`` symbols."""

    def __init__(self, model: CodingModel, window: int) -> None:
        self.model, self.window, self.name = model, window, f"{model.name}@{window}"

    def for_sample(self, layout: str, shape: tuple[int, ...], length: int) -> SymbolModel:
        return _Windowed(self.model, layout, self.window, length)

    def order(self, layout: str, shape: tuple[int, ...], length: int) -> list[int]:
        """Stored order."""
        return list(range(length))
