"""What every reduction returns, and the two batched constructors every method ends in.

A reduction maps N input tokens (B, N, D) to K output tokens (B, K, D). Pruning keeps a subset; merging averages
groups. Both are described by one *assignment*: ``assign[b, i]`` is the output slot that input token ``i`` went
to (``-1``: dropped). Outputs are in token order (slot j's representative input position rises with j), so
``unmerge`` scatters dense outputs back to their input positions. When samples keep different numbers of tokens
(per-sample budgets, padded mode) the output is right-padded to the largest count and ``valid`` marks the real
slots; ``attention_bias`` turns sizes and padding into one additive mask for ``scaled_dot_product_attention``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from tokzoo.core.errors import ConfigError, DataError

Keep = int | float | Sequence[int] | Sequence[float] | torch.Tensor
"""A budget: a count, a fraction of the valid tokens in (0, 1], or one of either per sample."""


@dataclass
class Reduced:
    """The result of a reduction.

    ``tokens`` (B, K, D); ``assign`` (B, N) long, the output slot of each input token or -1 if dropped;
    ``sizes`` (B, K) float, how many input tokens (weighted by their own sizes) each output holds, 0 at padding;
    ``index`` (B, K) long, the input position of each output's representative (token order, 0 at padding);
    ``valid`` (B, K) bool, or None when every sample kept K tokens (a rectangular batch).
    """

    tokens: torch.Tensor
    assign: torch.Tensor
    sizes: torch.Tensor
    index: torch.Tensor
    valid: torch.Tensor | None = None

    @property
    def counts(self) -> torch.Tensor:
        """(B,) number of real output tokens per sample."""
        if self.valid is None:
            return torch.full((len(self.tokens),), self.tokens.shape[1], device=self.tokens.device)
        return self.valid.sum(1)

    def unmerge(self, y: torch.Tensor, fill: float = 0.0) -> torch.Tensor:
        """(B, N, C) from outputs ``y`` (B, K, C): each input position gets its slot's output, dropped ones
        ``fill``."""
        if y.shape[:2] != self.tokens.shape[:2]:
            raise DataError(
                f"unmerge expects (B, K) = {tuple(self.tokens.shape[:2])}, got {tuple(y.shape[:2])}"
            )
        return unmerge(y, self.assign, fill)

    def attention_bias(self, dtype: torch.dtype | None = None) -> torch.Tensor:
        """(B, 1, 1, K) additive mask for SDPA: ``log(size)`` (ToMe's proportional attention), ``-inf`` at
        padding. With all sizes 1 and no padding it is all zeros."""
        return log_size_bias(self.sizes, self.valid, dtype or self.tokens.dtype)


def log_size_bias(sizes: torch.Tensor, valid: torch.Tensor | None, dtype: torch.dtype) -> torch.Tensor:
    """(B, 1, 1, K) ``log(sizes)`` with ``-inf`` where ``valid`` is False (padding)."""
    bias = sizes.clamp_min(1e-12).log()
    if valid is not None:
        bias = bias.masked_fill(~valid, float("-inf"))
    return bias.to(dtype)[:, None, None, :]


def unmerge(y: torch.Tensor, assign: torch.Tensor, fill: float = 0.0) -> torch.Tensor:
    """(B, N, C): ``y[b, assign[b, i]]`` for each input position i, ``fill`` where ``assign`` is -1."""
    out = y.gather(1, assign.clamp_min(0)[..., None].expand(*assign.shape, y.shape[-1]))
    return out.masked_fill((assign < 0)[..., None], fill)


def compose(first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """The assignment of two reductions in a row (``first`` over N inputs, ``second`` over its outputs)."""
    through = second.gather(1, first.clamp_min(0))
    return torch.where(first < 0, first, through)


def budgets(keep: Keep, available: torch.Tensor) -> torch.Tensor:
    """(B,) kept counts from ``keep`` and the (B,) number of tokens each sample may keep from.

    A float in (0, 1] is a fraction (rounded, at least 1); an int a count; a sequence or tensor gives one of
    either per sample. A count above what a sample has, or below 1, is a ``ConfigError``.
    """
    b = len(available)
    value = torch.as_tensor(keep, device=available.device)
    if value.dim() == 0:
        value = value.expand(b)
    if value.shape != (b,):
        raise ConfigError(
            f"keep: expected one budget or {b} (one per sample), got shape {tuple(value.shape)}"
        )
    if value.is_floating_point():
        if bool(((value <= 0) | (value > 1)).any()):
            raise ConfigError(f"keep: a fraction must lie in (0, 1], got {value.tolist()}")
        counts = (value * available).round().long().clamp_min(1)
    else:
        counts = value.long()
    if bool(((counts < 1) | (counts > available)).any()):
        raise ConfigError(f"keep: counts {counts.tolist()} outside [1, available {available.tolist()}]")
    return counts


def valid_counts(x: torch.Tensor, valid: torch.Tensor | None) -> torch.Tensor:
    """(B,) number of valid input tokens."""
    if valid is None:
        return torch.full((len(x),), x.shape[1], device=x.device)
    return valid.sum(1)


def _slots(rep: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]:
    """Output slot of every representative (token order), representative position per slot, counts, K."""
    counts = rep.sum(1)
    k = int(counts.max()) if rep.numel() else 0
    slot = rep.long().cumsum(1) - 1
    positions = torch.arange(rep.shape[1], device=rep.device).expand_as(rep)
    index = torch.zeros(len(rep), k + 1, dtype=torch.long, device=rep.device)
    index.scatter_(1, torch.where(rep, slot, k), positions)
    return slot, index[:, :k], counts, k


def _padding(counts: torch.Tensor, k: int) -> torch.Tensor | None:
    if bool((counts == k).all()):
        return None
    return torch.arange(k, device=counts.device)[None] < counts[:, None]


def select(x: torch.Tensor, keep_mask: torch.Tensor, sizes: torch.Tensor | None = None) -> Reduced:
    """Prune: keep the tokens where ``keep_mask`` (B, N) is True, in token order (a gather, no arithmetic).

    ``sizes`` (B, N) carries earlier merges' sizes through; default all ones.
    """
    slot, index, counts, k = _slots(keep_mask)
    valid = _padding(counts, k)
    tokens = x.gather(1, index[..., None].expand(-1, -1, x.shape[-1]))
    in_sizes = torch.ones(x.shape[:2], device=x.device, dtype=x.dtype) if sizes is None else sizes
    out_sizes = in_sizes.gather(1, index)
    if valid is not None:
        tokens = tokens.masked_fill(~valid[..., None], 0.0)
        out_sizes = out_sizes.masked_fill(~valid, 0.0)
    assign = torch.where(keep_mask, slot, -1)
    return Reduced(tokens, assign, out_sizes, index, valid)


def merge(
    x: torch.Tensor, rep: torch.Tensor, target: torch.Tensor, sizes: torch.Tensor | None = None
) -> Reduced:
    """Merge: every token with ``target[b, i] >= 0`` joins the group of representative position ``target[b, i]``
    (where ``rep`` is True); outputs are size-weighted means, in representatives' token order.

    ``rep`` (B, N) bool; ``target`` (B, N) long input positions (a representative targets itself; -1 drops the
    token); ``sizes`` (B, N) the inputs' own sizes (default ones), so repeated merges stay exact averages.
    """
    if bool((rep & (target != torch.arange(rep.shape[1], device=rep.device))).any()):
        raise DataError("merge: a representative must target itself")
    if bool((~rep.gather(1, target.clamp_min(0)) & (target >= 0)).any()):
        raise DataError("merge: every target must be a representative")
    slot, index, counts, k = _slots(rep)
    valid = _padding(counts, k)
    assign = compose(target, slot)
    w = torch.ones(x.shape[:2], device=x.device, dtype=x.dtype) if sizes is None else sizes.to(x.dtype)
    w = w.masked_fill(assign < 0, 0.0)
    scatter_at = torch.where(assign < 0, k, assign)
    out_sizes = torch.zeros(len(x), k + 1, device=x.device, dtype=x.dtype).scatter_add(1, scatter_at, w)
    sums = torch.zeros(len(x), k + 1, x.shape[-1], device=x.device, dtype=x.dtype)
    sums = sums.scatter_add(1, scatter_at[..., None].expand_as(x), x * w[..., None])
    out_sizes = out_sizes[:, :k]
    tokens = sums[:, :k] / out_sizes.clamp_min(1e-12)[..., None]
    return Reduced(tokens, assign, out_sizes, index, valid)


def topk_mask(scores: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    """(B, N) bool: the ``counts[b]`` highest ``scores[b]`` (ties to the lower position). ``-inf`` scores are
    chosen last; a sample's choice does not depend on the other samples' budgets."""
    k = int(counts.max())
    order = scores.float().argsort(dim=1, descending=True, stable=True)[:, :k]
    chosen = torch.arange(k, device=scores.device)[None] < counts[:, None]
    mask = torch.zeros(scores.shape, dtype=torch.bool, device=scores.device)
    return mask.scatter(1, order, chosen)


def protect_mask(x: torch.Tensor, protected: int = 0, protect: torch.Tensor | None = None) -> torch.Tensor:
    """(B, N) bool of tokens a method must keep untouched: the first ``protected`` (e.g. CLS) and ``protect``."""
    mask = torch.zeros(x.shape[:2], dtype=torch.bool, device=x.device)
    mask[:, :protected] = True
    if protect is not None:
        if protect.shape != mask.shape:
            raise DataError(f"protect: expected shape {tuple(mask.shape)}, got {tuple(protect.shape)}")
        mask |= protect.to(mask.device)
    return mask


def check_tokens(x: torch.Tensor, valid: torch.Tensor | None = None) -> None:
    """A (B, N, D) float tensor and, if given, a (B, N) bool ``valid`` mask with valid tokens first."""
    if x.dim() != 3 or not x.is_floating_point():
        raise DataError(f"tokens must be a float (B, N, D) tensor, got {x.dtype} {tuple(x.shape)}")
    if valid is not None:
        if valid.shape != x.shape[:2] or valid.dtype != torch.bool:
            raise DataError(
                f"valid must be a bool {tuple(x.shape[:2])} tensor, got {valid.dtype} {tuple(valid.shape)}"
            )
        if bool((valid[:, 1:] & ~valid[:, :-1]).any()):
            raise DataError("valid: padding must come after the valid tokens of each sample")


def positions_of(mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, C) input positions where ``mask`` (B, N) is True, in order, right-padded with 0; and (B, C) which are
    real. C is the largest count."""
    c = int(mask.sum(1).max()) if mask.numel() else 0
    order = torch.where(mask, 0, 1).argsort(dim=1, stable=True)[:, :c]
    real = torch.arange(c, device=mask.device)[None] < mask.sum(1)[:, None]
    return order, real


def nearest_of(metric: torch.Tensor, candidates: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For every token, the candidate (``candidates`` (B, N) bool) with the highest ``metric`` dot product:
    (best similarity (B, N), its input position (B, N)); O(N·C), -inf similarity where a sample has none."""
    order, real = positions_of(candidates)
    if order.shape[1] == 0:
        return metric.new_full(metric.shape[:2], float("-inf")), torch.zeros_like(
            candidates, dtype=torch.long
        )
    cols = metric.gather(1, order[..., None].expand(-1, -1, metric.shape[-1]))
    sim = (metric @ cols.transpose(1, 2)).masked_fill(~real[:, None, :], float("-inf"))
    best, which = sim.max(-1)
    return best, order.gather(1, which)
