"""Aggregating per-image values: mean with a 95% bootstrap interval, from a fixed seed."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def mean_ci(values: Sequence[float], *, seed: int = 0, resamples: int = 2000) -> dict[str, float]:
    """Mean and 95% percentile-bootstrap interval of ``values`` (the interval collapses for one value)."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        raise ValueError("mean_ci needs at least one value")
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, v.size, size=(resamples, v.size))].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return {"mean": float(v.mean()), "ci95_low": float(lo), "ci95_high": float(hi), "n": int(v.size)}
