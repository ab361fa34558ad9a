"""Differentiable depth (and colour) rendering of anisotropic 3-D Gaussians, in pure PyTorch.

As in "3D Gaussian Splatting for Real-Time Radiance Field Rendering" (Kerbl et al., 2023) each Gaussian
contributes ``alpha = opacity * exp(-m^2 / 2)`` to a pixel and pixels composite front to back
(``w_k = alpha_k * prod_{j<k} (1 - alpha_j)``). Instead of the paper's screen-space (EWA) projection, each
Gaussian is evaluated exactly along the pixel's ray (as ray-traced Gaussian renderers do): ``m`` is the
Mahalanobis distance of the Gaussian's centre to the ray and the Gaussian sits on the ray at ``t*``, where its
density along the ray peaks — for a flat Gaussian, the depth of its plane there, so a tilted surface patch
renders a sloped depth, not one constant depth. With the precision ``P``, ``a = r'Pr``, ``b = r'P mu``: ``t* = b/a``
and ``m^2 = mu'P mu - b t*`` (two small matrix products per view). As in the paper, Gaussians are sorted once
per view by the depth of their centres; the rendered depth is ``sum w t* / sum w`` (the accumulated opacity
``sum w`` is returned beside it). Rays have z = 1, so ``t*`` is camera z in metres.
"""

from __future__ import annotations

import torch

__all__ = ["quaternion_to_matrix", "splat"]


def quaternion_to_matrix(q: torch.Tensor) -> torch.Tensor:
    """Rotation matrices (..., 3, 3) of quaternions (..., 4) ordered (w, x, y, z), normalised first."""
    w, x, y, z = torch.nn.functional.normalize(q, dim=-1).unbind(-1)
    rows = [
        1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
        2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
        2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
    ]  # fmt: skip
    return torch.stack(rows, -1).reshape(*q.shape[:-1], 3, 3)


def splat(
    means: torch.Tensor,
    scales: torch.Tensor,
    quats: torch.Tensor,
    opacity: torch.Tensor,
    rays: torch.Tensor,
    colours: torch.Tensor | None = None,
    max_alpha: float = 0.99,
) -> dict[str, torch.Tensor]:
    """Render ``K`` Gaussians per sample along ``P`` rays.

    Args:
        means: (B, K, 3) centres in camera coordinates (metres); scales: (B, K, 3) standard deviations along
            the axes of rotations ``quats`` (B, K, 4) (w, x, y, z); opacity: (B, K) in [0, 1].
        rays: (P, 3) ray directions with z = 1 (:meth:`~tokzoo.points.rgbd.Camera.rays`).
        colours: optional (B, K, C) features composited like depth.
        max_alpha: cap of one Gaussian's alpha (keeps the transmittance product differentiable).

    Returns:
        ``depth`` (B, P) (``sum w t / sum w``; meaningless where ``alpha`` is ~0), ``alpha`` (B, P) the
        accumulated opacity, and ``colour`` (B, P, C) when ``colours`` is given.
    """
    rot = quaternion_to_matrix(quats)  # columns are the Gaussian's axes
    precision = (rot / scales[..., None, :].pow(2)) @ rot.transpose(-1, -2)  # (B, K, 3, 3)
    i, j = torch.triu_indices(3, 3)
    pairs = rays[:, i] * rays[:, j] * torch.where(i == j, 1.0, 2.0)  # (P, 6): r_i r_j, off-diagonal twice
    a = pairs @ precision[..., i, j].transpose(1, 2)  # (B, P, K): r' P r
    pm = (precision @ means[..., None])[..., 0]  # (B, K, 3)
    b = rays @ pm.transpose(1, 2)  # (B, P, K): r' P mu
    c = (means * pm).sum(-1)[:, None]  # (B, 1, K): mu' P mu
    t = b / a.clamp_min(1e-20)  # depth of the density peak along the ray
    m2 = (c - b * t).clamp_min(0)  # squared Mahalanobis distance of the centre to the ray
    alpha = (opacity[:, None] * torch.exp(-0.5 * m2)).clamp_max(max_alpha)
    alpha = torch.where(t > 1e-4, alpha, 0.0)  # behind the camera
    order = means[..., 2].argsort(
        dim=-1, stable=True
    )  # front to back by centre depth (ties: token order), as in the paper
    t, alpha = t.gather(-1, order[:, None].expand_as(t)), alpha.gather(-1, order[:, None].expand_as(alpha))
    log_t = torch.cumsum(torch.log1p(-alpha), -1)
    transmit = torch.exp(torch.cat([torch.zeros_like(log_t[..., :1]), log_t[..., :-1]], -1))
    w = alpha * transmit
    acc = w.sum(-1)
    out = {"depth": (w * t).sum(-1) / acc.clamp_min(1e-12), "alpha": acc}
    if colours is not None:
        ordered = colours.gather(1, order[..., None].expand_as(colours))
        out["colour"] = (w @ ordered) / acc[..., None].clamp_min(1e-12)
    return out
