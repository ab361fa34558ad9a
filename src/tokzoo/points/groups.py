"""Point patches as Point-BERT groups them: farthest point sampling picks the centres, each centre's k
nearest neighbours form its patch (pure PyTorch; "Point-BERT: Pre-training 3D Point Cloud Transformers with
Masked Point Modeling", Yu et al., 2022)."""

from __future__ import annotations

import torch

__all__ = ["farthest_points", "group"]


def farthest_points(points: torch.Tensor, k: int) -> torch.Tensor:
    """Indices (B, k) of ``k`` farthest-point samples of ``points`` (B, N, 3), starting from point 0
    (deterministic)."""
    b, n, _ = points.shape
    index = torch.zeros(b, k, dtype=torch.long, device=points.device)
    dist = torch.full((b, n), float("inf"), device=points.device)
    last = torch.zeros(b, dtype=torch.long, device=points.device)
    rows = torch.arange(b, device=points.device)
    for i in range(k):
        index[:, i] = last
        d = (points - points[rows, last][:, None]).pow(2).sum(-1)
        dist = torch.minimum(dist, d)
        last = dist.argmax(1)
    return index


def group(points: torch.Tensor, num_groups: int, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(centres (B, G, 3), patches (B, G, size, 3) of neighbour offsets from their centre)."""
    rows = torch.arange(points.shape[0], device=points.device)[:, None]
    centres = points[rows, farthest_points(points, num_groups)]
    knn = torch.cdist(centres, points).topk(size, dim=-1, largest=False).indices  # (B, G, size)
    patches = points[rows[..., None], knn] - centres[:, :, None]
    return centres, patches
