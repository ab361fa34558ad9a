"""Point-cloud fidelity: Chamfer distance, F-score at a threshold, normal consistency (Occupancy Networks,
2019, protocol). Nearest neighbours by exact pairwise distances in chunks (pure PyTorch, no extensions)."""

from __future__ import annotations

import torch

from tokzoo.points.normalize import check_points

__all__ = ["chamfer", "f_measure", "f_score", "nearest", "normal_consistency", "precision_recall"]


def nearest(a: torch.Tensor, b: torch.Tensor, chunk: int = 4096) -> tuple[torch.Tensor, torch.Tensor]:
    """For each point of ``a`` (B, N, 3): its distance to the nearest point of ``b`` (B, M, 3) and its index."""
    dists, index = [], []
    for start in range(0, a.shape[1], chunk):
        d = torch.cdist(a[:, start : start + chunk], b, compute_mode="donot_use_mm_for_euclid_dist")
        value, i = d.min(-1)
        dists.append(value)
        index.append(i)
    return torch.cat(dists, 1), torch.cat(index, 1)


def chamfer(a: torch.Tensor, b: torch.Tensor, squared: bool = False) -> torch.Tensor:
    """Symmetric Chamfer distance per cloud (B,): mean nearest distance a->b plus b->a, halved."""
    a, b = check_points(a, "a"), check_points(b, "b")
    d_ab, d_ba = nearest(a, b)[0], nearest(b, a)[0]
    if squared:
        d_ab, d_ba = d_ab**2, d_ba**2
    return (d_ab.mean(1) + d_ba.mean(1)) / 2


def precision_recall(
    pred: torch.Tensor, target: torch.Tensor, threshold: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per cloud (B,): precision (share of ``pred`` within ``threshold`` of ``target``: low when the decoded
    surface is thick or misplaced) and recall (share of ``target`` within ``threshold`` of ``pred``: low when
    parts are missing)."""
    pred, target = check_points(pred, "pred"), check_points(target, "target")
    precision = (nearest(pred, target)[0] <= threshold).float().mean(1)
    recall = (nearest(target, pred)[0] <= threshold).float().mean(1)
    return precision, recall


def f_measure(precision: torch.Tensor, recall: torch.Tensor) -> torch.Tensor:
    """Harmonic mean of precision and recall (0 where both are 0)."""
    return torch.where(
        precision + recall > 0, 2 * precision * recall / (precision + recall).clamp_min(1e-12), 0.0
    )


def f_score(pred: torch.Tensor, target: torch.Tensor, threshold: float) -> torch.Tensor:
    """F-score per cloud (B,): :func:`f_measure` of :func:`precision_recall`."""
    return f_measure(*precision_recall(pred, target, threshold))


def normal_consistency(
    pred: torch.Tensor, pred_normals: torch.Tensor, target: torch.Tensor, target_normals: torch.Tensor
) -> torch.Tensor:
    """Mean |cos| between each point's normal and its nearest neighbour's, both ways (B,); 1 for a match."""
    pred, target = check_points(pred, "pred"), check_points(target, "target")
    pn = torch.nn.functional.normalize(
        torch.as_tensor(pred_normals, dtype=torch.float32).reshape(pred.shape), dim=-1
    )
    tn = torch.nn.functional.normalize(
        torch.as_tensor(target_normals, dtype=torch.float32).reshape(target.shape), dim=-1
    )
    i_pt, i_tp = nearest(pred, target)[1], nearest(target, pred)[1]
    c1 = (pn * torch.gather(tn, 1, i_pt[..., None].expand(-1, -1, 3))).sum(-1).abs().mean(1)
    c2 = (tn * torch.gather(pn, 1, i_tp[..., None].expand(-1, -1, 3))).sum(-1).abs().mean(1)
    return (c1 + c2) / 2
