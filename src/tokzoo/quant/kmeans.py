"""k-means for codebook initialisation ("Jukebox", Dhariwal et al., 2020; SoundStream, Zeghidour et al., 2021),
seeded with k-means++ ("k-means++: The Advantages of Careful Seeding", Arthur & Vassilvitskii, 2007)."""

from __future__ import annotations

import torch


@torch.no_grad()
def kmeans_plus_plus(x: torch.Tensor, k: int, *, generator: torch.Generator | None = None) -> torch.Tensor:
    """k initial centroids from the rows of ``x`` (N, D), each drawn with probability ∝ squared distance to
    the nearest one already chosen. Needs N >= 1; with N <= k rows are reused."""
    n = x.shape[0]
    first = int(torch.randint(0, n, (1,), generator=generator))
    chosen = [first]
    d2 = (x - x[first]).pow(2).sum(1)
    for _ in range(1, k):
        total = float(d2.sum())
        if total > 0:
            idx = int(torch.multinomial((d2 / total).cpu(), 1, generator=generator))
        else:  # every row is already a centroid: reuse rows
            idx = int(torch.randint(0, n, (1,), generator=generator))
        chosen.append(idx)
        d2 = torch.minimum(d2, (x - x[idx]).pow(2).sum(1))
    return x[torch.tensor(chosen, device=x.device)].clone()


@torch.no_grad()
def kmeans(
    x: torch.Tensor,
    k: int,
    *,
    iters: int = 10,
    cosine: bool = False,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Lloyd's k-means on rows of ``x`` (N, D) from a k-means++ start → (k, D) centroids.

    An empty cluster keeps its previous centroid. With ``cosine`` the centroids are l2-normalised each step.
    """
    c = kmeans_plus_plus(x, k, generator=generator)
    for _ in range(iters):
        ids = (c.pow(2).sum(1)[None] - 2 * x @ c.t()).argmin(1)
        sums = torch.zeros_like(c).index_add_(0, ids, x)
        counts = torch.bincount(ids, minlength=k).to(x.dtype)
        filled = counts > 0
        c[filled] = sums[filled] / counts[filled, None]
        if cosine:
            c = torch.nn.functional.normalize(c, dim=-1)
    return c
