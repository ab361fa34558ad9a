"""How gradients pass a non-differentiable quantizer: straight-through or the rotation trick."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def straight_through(e: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Forward value ``q``; the gradient reaches ``e`` unchanged ("Neural Discrete Representation Learning",
    van den Oord et al., 2017; Bengio et al., 2013)."""
    return e + (q - e).detach()


def rotation_trick(e: torch.Tensor, q: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Forward value ``q``; the gradient reaches ``e`` through the rotation and rescaling that map ``e`` onto
    ``q``, treated as constants ("Restructuring Vector Quantization with the Rotation Trick", Fifty et al., 2024).

    With u = e/|e|, v = q/|q| and r = (u+v)/|u+v|, the rotation is R = I - 2 r rᵀ + 2 v uᵀ and the output
    λ R e with λ = |q|/|e|, computed without forming R.
    """
    e_norm = e.norm(dim=-1, keepdim=True).clamp_min(eps)
    q_norm = q.norm(dim=-1, keepdim=True).clamp_min(eps)
    u = (e / e_norm).detach()
    v = (q / q_norm).detach()
    r = F.normalize(u + v, dim=-1, eps=eps).detach()
    rotated = e - 2 * r * (r * e).sum(-1, keepdim=True) + 2 * v * (u * e).sum(-1, keepdim=True)
    out = (q_norm / e_norm).detach() * rotated
    return out + (q - out).detach()  # exact forward value; only rounding differs, gradient unchanged
