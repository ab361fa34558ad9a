"""Colour palette for SVG paint tokens: a uniform RGB lattice by default, or k-means colours of a training set.

HiVG ("Hierarchical SVG Tokenization", 2026) tokenizes attributes as atomic tokens rather than raw strings;
here a paint is the index of its nearest palette colour (squared RGB distance).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch

from tokzoo.quant.kmeans import kmeans

__all__ = ["learn_palette", "nearest_colour", "uniform_palette"]


def uniform_palette(n: int) -> np.ndarray:
    """``(n, 3)`` uint8: the largest ``L^3 <= n`` RGB lattice, then evenly spaced greys for the rest."""
    levels = max(1, round(n ** (1 / 3)))
    while levels**3 > n:
        levels -= 1
    steps = np.linspace(0, 255, levels).round() if levels > 1 else np.array([0.0])
    lattice = np.stack(np.meshgrid(steps, steps, steps, indexing="ij"), -1).reshape(-1, 3)
    greys = np.linspace(0, 255, n - len(lattice) + 2)[1:-1].round()
    return np.concatenate([lattice, np.repeat(greys[:, None], 3, 1)]).astype(np.uint8)


def learn_palette(colours: Iterable[tuple[int, int, int]], n: int, *, seed: int = 0) -> np.ndarray:
    """``(n, 3)`` uint8 k-means centroids of the (repeated, so frequency-weighted) ``colours``.

    With fewer distinct colours than ``n`` every distinct colour is kept exactly and the rest of the palette is
    filled from :func:`uniform_palette`.
    """
    data = np.asarray(list(colours), dtype=np.float32).reshape(-1, 3)
    distinct = np.unique(data, axis=0)
    if len(distinct) <= n:
        fill = uniform_palette(n)
        known = {tuple(c) for c in distinct.astype(np.uint8).tolist()}
        extra = [c for c in fill.tolist() if tuple(c) not in known][: n - len(distinct)]
        return np.concatenate([distinct, np.asarray(extra, dtype=np.float32).reshape(-1, 3)]).astype(np.uint8)
    rng = np.random.default_rng(seed)
    if len(data) > 50_000:
        data = data[rng.choice(len(data), 50_000, replace=False)]
    gen = torch.Generator().manual_seed(seed)
    centres = kmeans(torch.from_numpy(data), n, iters=20, generator=gen).numpy()
    return np.clip(centres.round(), 0, 255).astype(np.uint8)


def nearest_colour(palette: np.ndarray, rgb: tuple[int, int, int]) -> int:
    """Index of the palette colour closest to ``rgb`` (squared RGB distance; the lowest index on ties)."""
    d = ((palette.astype(np.int64) - np.asarray(rgb, dtype=np.int64)) ** 2).sum(1)
    return int(np.argmin(d))
