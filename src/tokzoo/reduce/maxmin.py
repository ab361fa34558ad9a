"""Greedy max–min selection (farthest-point sampling) under any distance, batched, O(K·N) distances.

Gonzalez, "Clustering to minimize the maximum intercluster distance" (1985): keep, for every token, its distance
to the nearest selected token; repeatedly select the token farthest from the selection and update that distance
with one row of distances. This is the incremental algorithm behind DivPrune and farthest-point sampling; it
never forms the N × N distance matrix.
"""

from __future__ import annotations

from collections.abc import Callable

import torch


def greedy_maxmin(
    distance_to: Callable[[torch.Tensor], torch.Tensor],
    selected: torch.Tensor,
    counts: torch.Tensor,
    first: torch.Tensor,
    valid: torch.Tensor | None = None,
) -> torch.Tensor:
    """(B, N) bool: ``selected`` grown greedily to ``counts[b]`` tokens.

    ``distance_to(idx)`` returns the (B, N) distances of every token to token ``idx[b]`` of each sample;
    ``first`` (B,) is the token taken when a sample's selection is empty. The order of picks depends only on
    the sample itself, so per-sample budgets give prefixes of the same sequence.
    """
    b, n = selected.shape
    rows = torch.arange(b, device=selected.device)
    nearest = torch.full((b, n), float("inf"), device=selected.device)
    seeds = selected.sum(1)
    order = torch.where(selected, 0, 1).argsort(dim=1, stable=True)  # preselected positions first
    for j in range(int(seeds.max()) if b else 0):
        has = j < seeds
        nearest = torch.where(has[:, None], torch.minimum(nearest, distance_to(order[:, j])), nearest)
    chosen = selected.clone()
    blocked = chosen if valid is None else chosen | ~valid
    for _ in range(int((counts - seeds).max().clamp_min(0)) if b else 0):
        need = chosen.sum(1) < counts
        score = nearest.masked_fill(blocked, float("-inf"))
        idx = torch.where(chosen.any(1), score.argmax(1), first)
        chosen[rows[need], idx[need]] = True
        blocked = blocked.clone()
        blocked[rows[need], idx[need]] = True
        nearest = torch.where(need[:, None], torch.minimum(nearest, distance_to(idx)), nearest)
    return chosen
