"""``gq``: group-wise lookup-free quantization (WeTok, 2025), an LFQ per group of bits."""

from __future__ import annotations

import torch

from tokzoo.core.errors import ConfigError
from tokzoo.quant.lfq import LFQ, batch_mean, bit_entropy, group_codebook_entropies
from tokzoo.quant.registry import register_quantizer


@register_quantizer("gq")
class GroupLFQ(LFQ):
    """Group-wise lookup-free quantization ("WeTok: Powerful Discrete Tokenization for High-Fidelity Visual
    Reconstruction", Zhuang et al., 2025): the ``bits`` channels are split into ``groups`` equal groups, each
    an LFQ over its own ``2**(bits/groups)`` sub-codes with its own entropy terms; the entropy loss is the
    mean of the groups' losses. Ids are one integer, the groups' bits concatenated (first group most
    significant). Each group's codebook entropy is exact when it has at most ``group_size`` bits, else
    group-factorised inside the group like ``LFQ``'s.

    Args:
        dim, bits, entropy_weight, commitment_weight, diversity_gamma, temperature: as in ``LFQ``.
        groups: number of quantization groups; must divide ``bits``.
        group_size: bits per factor of a group's codebook-entropy estimate (at most 16; default 8, so
            groups of up to 8 bits are exact).
    """

    def __init__(
        self, dim: int, bits: int, *, groups: int = 2, group_size: int = 8, **options: float
    ) -> None:
        if groups < 1 or bits % groups:
            raise ConfigError(f"gq: groups ({groups}) must divide bits ({bits})")
        super().__init__(dim, bits, group_size=group_size, **options)
        self.groups = groups
        self.group_bits = bits // groups
        self.group_size = min(self.group_size, self.group_bits)

    def _entropy_loss(self, h: torch.Tensor, sync: bool) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        x = self.bit_logits(h.reshape(-1, self.groups, self.group_bits))
        per_sample = batch_mean(bit_entropy(x).sum(-1), sync=sync)
        codebook = torch.stack(
            [group_codebook_entropies(x[:, g], self.group_size, sync=sync).sum() for g in range(self.groups)]
        )
        loss = (per_sample - self.diversity_gamma * codebook).mean()
        stats = {
            "per_sample_entropy": per_sample.sum().detach(),
            "codebook_entropy": codebook.sum().detach(),
        }
        return loss, stats


__all__ = ["GroupLFQ"]
