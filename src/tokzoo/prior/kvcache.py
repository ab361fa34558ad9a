"""Incremental decoding over :class:`tokzoo.nn.transformer.Transformer` blocks with a key/value cache.

The blocks' own weights are used (``norm1``, ``attn.qkv``, ``attn.proj``, ``norm2``, ``mlp``); each call feeds
the next step's positions, which attend everything cached plus themselves, so a generation step costs one
pass over the new positions instead of the whole prefix ("Attention Is All You Need", Vaswani et al., 2017;
caching as in GPT decoding, "Language Models are Unsupervised Multitask Learners", Radford et al., 2019).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from tokzoo.nn.transformer import Block, Transformer

__all__ = ["KVCache", "cached_forward"]


class KVCache:
    """Per block, the keys and values (B, heads, T, head_dim) of the positions fed so far."""

    def __init__(self, depth: int) -> None:
        self.keys: list[torch.Tensor | None] = [None] * depth
        self.values: list[torch.Tensor | None] = [None] * depth

    @property
    def length(self) -> int:
        """Positions cached."""
        k = self.keys[0]
        return 0 if k is None else int(k.shape[2])


def _block_step(block: Block, x: torch.Tensor, cache: KVCache, i: int) -> torch.Tensor:
    attn = block.attn
    b, n, d = x.shape
    q, k, v = attn.qkv(block.norm1(x)).view(b, n, 3, attn.heads, d // attn.heads).permute(2, 0, 3, 1, 4)
    if cache.keys[i] is not None:
        k = torch.cat([cache.keys[i], k], dim=2)
        v = torch.cat([cache.values[i], v], dim=2)
    cache.keys[i], cache.values[i] = k, v
    out = F.scaled_dot_product_attention(q, k, v)  # new positions see the whole cache and each other
    x = x + attn.proj(out.transpose(1, 2).reshape(b, n, d))
    return x + block.mlp(block.norm2(x))


def cached_forward(transformer: Transformer, x: torch.Tensor, cache: KVCache) -> torch.Tensor:
    """Hidden states of the new positions ``x`` (B, n, D) given ``cache`` (updated in place); equal to the
    block-causal full forward at those positions when ``x`` is one whole step."""
    for i, block in enumerate(transformer.blocks):
        x = _block_step(block, x, cache, i)
    return transformer.norm(x)
