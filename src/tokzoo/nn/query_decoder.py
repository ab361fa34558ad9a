"""TiTok's query decoder and learned token tables, shared by the 1-D tokenizers of every modality.

"An Image is Worth 32 Tokens for Reconstruction and Generation" (TiTok, Yu et al., 2024): token embeddings are
concatenated with one learned mask token per output cell (an image patch, a latent grid cell, a clip's (t, h, w)
cell), a transformer mixes them, and the outputs at the cells are read out. Queries start as unit-scale sine-cosine
positions and token tables at unit scale, not ``0.02 * randn`` (see :mod:`tokzoo.image.vit_parts` and
docs/flexible.md for why that matters at small scale).
"""

from __future__ import annotations

import torch
from torch import nn

from tokzoo.nn.transformer import Transformer, key_padding_mask, sincos_2d


def token_table(count: int, width: int) -> nn.Parameter:
    """A learned (count, width) table of token embeddings (latents, token positions), initialised at unit scale."""
    return nn.Parameter(torch.randn(count, width))


class QueryDecoder(nn.Module):
    """Tokens (B, L, width) plus one learned mask token per cell of a ``grid`` × ``grid`` patch grid (initialised
    as 2-D sin-cos positions) → (B, grid², width) features. ``grid`` may instead be the (N, width) table of
    initial query positions of any other layout (e.g. a video's (t, h, w) cells).

    ``valid`` (B, L) marks the tokens present in each sample (a key-padding mask: absent tokens are never
    attended). ``token_mask`` (L, L), when given, restricts which tokens a token attends (e.g. scale-causal);
    tokens then do not attend the queries either, so information only flows as ``token_mask`` allows.
    """

    def __init__(
        self, grid: int | torch.Tensor, width: int, depth: int, heads: int, mlp_ratio: float
    ) -> None:
        super().__init__()
        table = grid.clone() if isinstance(grid, torch.Tensor) else sincos_2d(grid, grid, width)
        self.queries = nn.Parameter(table)
        self.transformer = Transformer(width, depth, heads, mlp_ratio)

    def forward(
        self, tokens: torch.Tensor, valid: torch.Tensor, token_mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        b, length, _ = tokens.shape
        n = self.queries.shape[0]
        x = torch.cat([tokens, self.queries.expand(b, -1, -1)], dim=1)
        keys = torch.cat([valid, valid.new_ones(b, n)], dim=1)
        mask = key_padding_mask(keys)
        if token_mask is not None:
            structure = torch.ones(length + n, length + n, dtype=torch.bool, device=tokens.device)
            structure[:length, :length] = token_mask
            structure[:length, length:] = False
            mask = mask & structure
        return self.transformer(x, mask)[:, length:]
