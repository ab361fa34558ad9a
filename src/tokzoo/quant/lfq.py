"""Lookup-free quantization: each latent channel is one bit, the code is the sign pattern.

Methods: "Language Model Beats Diffusion — Tokenizer is Key to Visual Generation" (Yu et al., 2023; MAGVIT-2)
for LFQ and its entropy loss; "GigaTok: Scaling Visual Tokenizers to 3 Billion Parameters for Autoregressive
Image Generation" (Xiong et al., 2025) for entropy-regularised LFQ at scale; "WeTok: Powerful Discrete
Tokenization for High-Fidelity Visual Reconstruction" (Zhuang et al., 2025) for group-wise quantization.

The entropy loss never builds a tokens x 2**bits matrix. With codes c in {-1, +1}^B and the code
distribution ``softmax_c(-||z - c||^2 / T)``, the logit is ``2 z·c / T`` plus terms free of c, so the
distribution factorises into independent bits with ``p(bit=+1) = sigmoid(4 z / T)``: the per-sample entropy
is exactly the sum of per-bit binary entropies. The batch-averaged (codebook) entropy does not factorise; it is
estimated by splitting the bits into groups, averaging each group's sub-code distribution over the batch, and
summing the group entropies. By subadditivity this estimate is an upper bound of the true codebook entropy,
equal to it when the groups are independent under the batch-averaged distribution.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.distributed.nn.functional as dist_nn
import torch.nn.functional as F
from torch import nn

from tokzoo.core.errors import ConfigError
from tokzoo.quant.base import Quantizer, QuantOut, codebook_stats, distributed, safe_mse
from tokzoo.quant.registry import register_quantizer


def bit_entropy(x: torch.Tensor) -> torch.Tensor:
    """Binary entropy (nats) of ``p = sigmoid(x)``, elementwise and stable for large ``|x|``."""
    return F.softplus(x) - x * torch.sigmoid(x)


def _subcode_bits(k: int, like: torch.Tensor) -> torch.Tensor:
    """``[2**k, k]`` 0/1 matrix (dtype/device of ``like``): row j holds the bits of sub-code j, most
    significant first."""
    shifts = torch.arange(k - 1, -1, -1, device=like.device)
    return ((torch.arange(2**k, device=like.device)[:, None] >> shifts) & 1).to(like.dtype)


def batch_mean(values: torch.Tensor, *, sync: bool = False) -> torch.Tensor:
    """Mean over dim 0; with ``sync`` (under DDP) over the union of all ranks' rows, differentiably, so every
    rank optimises the same global-batch estimate. Every rank must call it, also with zero rows (0 then)."""
    total, count = values.sum(0), torch.tensor(float(values.shape[0]), device=values.device)
    if sync and distributed():
        total = dist_nn.all_reduce(total)
        dist.all_reduce(count)
    return total / count.clamp_min(1.0)


def group_codebook_entropies(x: torch.Tensor, group_size: int, *, sync: bool = False) -> torch.Tensor:
    """Entropy (nats) of the batch-averaged sub-code distribution of each group of ``group_size`` bits.

    ``x[N, B]`` are per-bit logits (``p(bit=1) = sigmoid(x)``). A token's sub-code distribution over a
    group is ``softmax(x_g @ bits.T)`` (the product of its bits' Bernoullis), at most ``N x 2**group_size``.
    Returns one entropy per group; the last group may be shorter. ``sync`` averages over all DDP ranks.
    """
    out = []
    for start in range(0, x.shape[-1], group_size):
        xg = x[:, start : start + group_size]
        probs = torch.softmax(xg @ _subcode_bits(xg.shape[-1], x).t(), dim=-1)
        avg = batch_mean(probs, sync=sync)
        out.append(-(avg * torch.log(avg.clamp_min(1e-12))).sum())
    return torch.stack(out)


def setup_binary_codes(
    q: Quantizer, name: str, dim: int, bits: int, entropy_weight: float, commitment_weight: float,
    diversity_gamma: float, temperature: float, group_size: int,
) -> None:  # fmt: skip
    """Validate and set the options shared by the binary-code quantizers (LFQ, BSQ): projections ``dim ↔ bits``,
    ``codebook_size = 2**bits`` and the MSB-first ``bit_weights`` that turn bits into ids."""
    if not 1 <= bits <= 62:
        raise ConfigError(f"{name}: bits must be in 1..62, got {bits}")
    if not 1 <= group_size <= 16:
        raise ConfigError(f"{name}: group_size must be in 1..16, got {group_size}")
    if temperature <= 0:
        raise ConfigError(f"{name}: temperature must be positive, got {temperature}")
    q.bits = bits
    q.codebook_size = 2**bits
    q.entropy_weight = entropy_weight
    q.commitment_weight = commitment_weight
    q.diversity_gamma = diversity_gamma
    q.temperature = temperature
    q.group_size = min(group_size, bits)
    q.proj_in = nn.Linear(dim, bits) if dim != bits else nn.Identity()
    q.proj_out = nn.Linear(bits, dim) if dim != bits else nn.Identity()
    q.register_buffer("bit_weights", 2 ** torch.arange(bits - 1, -1, -1), persistent=False)


@register_quantizer("lfq")
class LFQ(Quantizer):
    """Lookup-free quantization ("Language Model Beats Diffusion — Tokenizer is Key to Visual Generation",
    Yu et al., 2023; as scaled in "GigaTok", Xiong et al., 2025): ``latent_b = sign(h_b)`` in {-1, +1}.

    Args:
        dim: channel size of the input ``z[..., dim]``; projected to ``bits`` channels and back by Linear
            layers when it differs from ``bits``.
        bits: bits per token; the codebook has ``2**bits`` codes, id = the bits read as a binary number
            (first channel most significant, bit = 1 where ``h > 0``).
        entropy_weight: weight of the entropy loss ``per_sample - diversity_gamma * codebook`` (nats).
        commitment_weight: weight of ``mse(h, sign(h))``.
        diversity_gamma: weight of the codebook-entropy term inside the entropy loss.
        temperature: ``T`` of the code distribution ``softmax(-||h - c||^2 / T)`` (0.01 matches the common
            ``inv_temperature=100`` with logits ``2 h·c``).
        group_size: bits per group for the factorised codebook-entropy estimate (at most 16).
    """

    def __init__(
        self,
        dim: int,
        bits: int,
        *,
        entropy_weight: float = 0.1,
        commitment_weight: float = 0.25,
        diversity_gamma: float = 1.0,
        temperature: float = 0.01,
        group_size: int = 8,
    ) -> None:
        super().__init__()
        setup_binary_codes(
            self,
            "lfq",
            dim,
            bits,
            entropy_weight,
            commitment_weight,
            diversity_gamma,
            temperature,
            group_size,
        )

    def bit_logits(self, h: torch.Tensor) -> torch.Tensor:
        """Per-bit logits ``x`` with ``p(bit=+1) = sigmoid(x)`` under ``softmax_c(-||h - c||^2 / T)``."""
        return 4.0 * h / self.temperature

    def entropy_terms(self, h: torch.Tensor, *, sync: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean per-sample entropy (exact) and the group-factorised codebook entropy, both in nats; ``sync``
        takes both over the global batch of all DDP ranks."""
        x = self.bit_logits(h.reshape(-1, self.bits))
        per_sample = batch_mean(bit_entropy(x).sum(-1), sync=sync)
        return per_sample, group_codebook_entropies(x, self.group_size, sync=sync).sum()

    def _entropy_loss(self, h: torch.Tensor, sync: bool) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        per_sample, codebook = self.entropy_terms(h, sync=sync)
        loss = per_sample - self.diversity_gamma * codebook
        return loss, {"per_sample_entropy": per_sample.detach(), "codebook_entropy": codebook.detach()}

    def forward(self, z: torch.Tensor) -> QuantOut:
        # Float32 even under bf16/fp16 autocast: the sharp entropy logits overflow in half precision.
        with torch.autocast(device_type=z.device.type, enabled=False):
            return self._quantize(z.float())

    def _quantize(self, z: torch.Tensor) -> QuantOut:
        h = self.proj_in(z)
        positive = h > 0
        q = torch.where(positive, 1.0, -1.0).to(h.dtype)
        ids = (positive.long() * self.bit_weights).sum(-1)
        loss = self.commitment_weight * safe_mse(h, q)
        stats = codebook_stats(ids, self.codebook_size)
        # On the training path under DDP the entropy terms are global-batch estimates: every rank takes part in
        # their all-reduce, also one with no data this step.
        sync = self.training and torch.is_grad_enabled() and distributed()
        if self.entropy_weight != 0 and (h.numel() > 0 or sync):
            entropy_loss, entropy_stats = self._entropy_loss(h, sync)
            loss = loss + self.entropy_weight * entropy_loss
            stats.update(entropy_stats)
        q = h + (q - h).detach()  # straight-through gradient to the encoder
        return QuantOut(self.proj_out(q), ids, loss, stats)

    def ids_to_bits(self, ids: torch.Tensor) -> torch.Tensor:
        """``ids[...] -> {-1, +1}[..., bits]`` (float32)."""
        return ((ids[..., None] & self.bit_weights) != 0).float() * 2 - 1

    def ids_to_latents(self, ids: torch.Tensor) -> torch.Tensor:
        return self.proj_out(self.ids_to_bits(ids))


__all__ = ["LFQ", "batch_mean", "bit_entropy", "group_codebook_entropies"]
