"""Point clouds normalised to the unit sphere: centred on their bounding box, the farthest point at radius 1."""

from __future__ import annotations

import torch

from tokzoo.core.errors import DataError

__all__ = ["check_points", "normalize", "unnormalize"]


def check_points(points: torch.Tensor, name: str = "points") -> torch.Tensor:
    """``points`` as a float (B, N, 3) tensor; DataError (one line) for another shape, NaN or inf, or no points."""
    if isinstance(points, (list, tuple)):
        if len({tuple(torch.as_tensor(c).shape) for c in points}) > 1:
            raise DataError(f"{name}: clouds of different sizes cannot form one batch")
        points = torch.stack([torch.as_tensor(c) for c in points]) if points else torch.zeros(0, 0, 3)
    p = torch.as_tensor(points, dtype=torch.float32)
    if p.ndim == 2:
        p = p[None]
    if p.ndim != 3 or p.shape[-1] != 3:
        raise DataError(f"{name}: expected (B, N, 3) or (N, 3) coordinates, got {tuple(p.shape)}")
    if p.shape[1] == 0:
        raise DataError(f"{name}: the point cloud is empty")
    if not torch.isfinite(p).all():
        raise DataError(
            f"{name}: {int((~torch.isfinite(p)).any(-1).sum())} points have NaN or infinite coordinates"
        )
    return p


def normalize(points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(normalised (B, N, 3), centres (B, 3), scales (B,)): ``points = centre + scale * normalised``."""
    p = check_points(points)
    centre = (p.amax(1) + p.amin(1)) / 2
    scale = (p - centre[:, None]).norm(dim=-1).amax(1)
    if (scale <= 0).any():
        raise DataError("points: every point of a cloud is the same point")
    return (p - centre[:, None]) / scale[:, None, None], centre, scale


def unnormalize(points: torch.Tensor, centre: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """The inverse of :func:`normalize`."""
    return points * scale[:, None, None] + centre[:, None]
