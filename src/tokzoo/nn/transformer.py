"""Pre-norm ViT blocks on ``scaled_dot_product_attention`` with explicit boolean attention masks.

"An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale" (Dosovitskiy et al., 2021).
Masks follow SDPA's boolean convention: ``True`` means "may attend". Variable-length batches are handled with a
key-padding mask built from per-sample lengths (no per-sample Python loops); structural masks (causal,
block-causal) are combined with it by logical and.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from tokzoo.nn.checkpointing import Checkpointable


class Attention(nn.Module):
    """Multi-head self-attention; ``mask`` is a boolean (B, L, L) or (L, L) tensor, True = attend."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"width {dim} is not divisible by {heads} heads")
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        if mask is not None and mask.dim() == 3:
            mask = mask[:, None]  # broadcast over heads
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.proj(out.transpose(1, 2).reshape(b, n, d))


class Block(Checkpointable):
    """``x + attn(norm(x))`` then ``x + mlp(norm(x))``."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float = 4.0) -> None:
        super().__init__()
        hidden = int(dim * mlp_ratio)
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def _forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        x = x + self.attn(self.norm1(x), mask)
        return x + self.mlp(self.norm2(x))

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return self.run(self._forward, x, mask)


class Transformer(nn.Module):
    """``depth`` blocks and a final LayerNorm; ``forward(x, mask)`` applies the same mask in every block."""

    def __init__(self, dim: int, depth: int, heads: int, mlp_ratio: float = 4.0) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(Block(dim, heads, mlp_ratio) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        for block in self.blocks:
            x = block(x, mask)
        return self.norm(x)


def key_padding_mask(valid: torch.Tensor, num_queries: int | None = None) -> torch.Tensor:
    """(B, Lq, Lk) attention mask from a (B, Lk) boolean "key is valid" tensor: every query sees the valid keys.

    Queries at invalid positions still attend the valid keys, so no row is empty (SDPA would give NaN).
    """
    lq = valid.shape[1] if num_queries is None else num_queries
    return valid[:, None, :].expand(valid.shape[0], lq, valid.shape[1])


def prefix_valid(lengths: torch.Tensor, size: int) -> torch.Tensor:
    """(B, size) boolean: position j of sample i is valid iff ``j < lengths[i]``."""
    return torch.arange(size, device=lengths.device)[None] < lengths[:, None]


def block_causal_mask(group_sizes: list[int], device: torch.device | None = None) -> torch.Tensor:
    """(L, L) mask over consecutive groups where a group attends itself and all earlier groups.

    Groups of size 1 give a plain causal mask; this is the scale-causal mask of multi-scale token sequences.
    """
    group = torch.repeat_interleave(
        torch.arange(len(group_sizes), device=device),
        torch.tensor(group_sizes, device=device),
        output_size=sum(group_sizes),
    )
    return group[:, None] >= group[None, :]


def sincos_2d(h: int, w: int, dim: int, *, stride: float = 1.0) -> torch.Tensor:
    """(h*w, dim) fixed 2D sine-cosine position embedding (half the channels for rows, half for columns).

    Cell ``(i, j)`` sits at ``((i + 0.5) * stride - 0.5, (j + 0.5) * stride - 0.5)``: with ``stride = g / h`` a
    coarse h×w map is placed at its cells' centres on a g×g grid, so nested scales share one coordinate frame.
    """
    if dim % 4:
        raise ValueError(f"sincos_2d needs a width divisible by 4, got {dim}")
    quarter = dim // 4
    freq = torch.exp(-math.log(10000.0) * torch.arange(quarter) / quarter)
    rows = (torch.arange(h, dtype=torch.float32) + 0.5) * stride - 0.5
    cols = (torch.arange(w, dtype=torch.float32) + 0.5) * stride - 0.5
    ys, xs = torch.meshgrid(rows, cols, indexing="ij")
    parts = []
    for coord in (ys.reshape(-1), xs.reshape(-1)):
        angles = coord[:, None] * freq[None]
        parts += [angles.sin(), angles.cos()]
    return torch.cat(parts, dim=1)
