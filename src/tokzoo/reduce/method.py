"""The one interface of every reduction method, and the shared shape of score-based pruning.

``method.reduce(x, keep, **context) -> Reduced``. ``x`` is (B, N, D); ``keep`` a count, a fraction, or one per
sample (padded mode); ``context`` carries what a method reads besides the tokens (``valid`` for padded inputs,
``protect`` for tokens never touched, ``query``/``keys``/``scores``, ``points``, ``spans``, ``masks``...).
Unknown context keys are an error, so a misspelt argument never silently changes the method.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from tokzoo.core.errors import ConfigError
from tokzoo.reduce.base import (
    Keep,
    Reduced,
    budgets,
    check_tokens,
    protect_mask,
    select,
    topk_mask,
    valid_counts,
)


class ReductionMethod:
    """Base class: subclasses set ``name``, ``merges`` (outputs are averages, so sizes matter), ``context``
    (the context keys they read) and implement ``_reduce``."""

    name: ClassVar[str]
    merges: ClassVar[bool] = False
    context: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, protected: int = 0) -> None:
        if protected < 0:
            raise ConfigError(f"protected must be >= 0, got {protected}")
        self.protected = protected

    def reduce(self, x: torch.Tensor, keep: Keep | None = None, **context: Any) -> Reduced:
        """Reduce ``x`` (B, N, D) to ``keep`` tokens per sample (see module docstring)."""
        unknown = set(context) - self.context - {"valid", "protect", "sizes"}
        if unknown:
            raise ConfigError(
                f"{self.name}: unknown context {sorted(unknown)}; it reads {sorted(self.context)}"
            )
        valid = context.pop("valid", None)
        check_tokens(x, valid)
        protect = protect_mask(x, self.protected, context.pop("protect", None))
        if valid is not None:
            protect &= valid
        return self._reduce(x, keep, valid, protect, **context)

    def _reduce(
        self,
        x: torch.Tensor,
        keep: Keep | None,
        valid: torch.Tensor | None,
        protect: torch.Tensor,
        **context: Any,
    ) -> Reduced:
        raise NotImplementedError

    def _counts(self, x: torch.Tensor, keep: Keep | None, valid: torch.Tensor | None) -> torch.Tensor:
        if keep is None:
            raise ConfigError(f"{self.name}: keep is required")
        return budgets(keep, valid_counts(x, valid))

    def _pruning_counts(
        self, x: torch.Tensor, keep: Keep | None, valid: torch.Tensor | None, protect: torch.Tensor
    ) -> torch.Tensor:
        """Per-sample budgets of a pruning method, which must keep every protected token."""
        counts = self._counts(x, keep, valid)
        if bool((counts < protect.sum(1)).any()):
            raise ConfigError(f"{self.name}: keep {counts.tolist()} is below the protected tokens")
        return counts

    def __repr__(self) -> str:
        options = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({options})"


class ScoredPruning(ReductionMethod):
    """Pruning that keeps the highest-scoring tokens: protected tokens first, padding never, then ``_scores``."""

    def _scores(self, x: torch.Tensor, valid: torch.Tensor | None, **context: Any) -> torch.Tensor:
        raise NotImplementedError

    def _reduce(
        self,
        x: torch.Tensor,
        keep: Keep | None,
        valid: torch.Tensor | None,
        protect: torch.Tensor,
        **context: Any,
    ) -> Reduced:
        counts = self._pruning_counts(x, keep, valid, protect)
        sizes = context.pop("sizes", None)
        scores = self._scores(x, valid, **context).float()
        scores = scores.masked_fill(protect, float("inf"))
        if valid is not None:
            scores = scores.masked_fill(~valid, float("-inf"))
        return select(x, topk_mask(scores, counts), sizes)
