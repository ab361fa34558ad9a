"""Binary spherical quantization: bits on the unit hypersphere.

Method: "Image and Video Tokenization with Binary Spherical Quantization" (Zhao et al., 2024); the 1D binary
tokens of Instella-T2I use the same bottleneck.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from tokzoo.quant.base import Quantizer, QuantOut, codebook_stats, distributed, safe_mse
from tokzoo.quant.lfq import batch_mean, bit_entropy, group_codebook_entropies, setup_binary_codes
from tokzoo.quant.registry import register_quantizer


@register_quantizer("bsq")
class BSQ(Quantizer):
    """Binary spherical quantization ("Image and Video Tokenization with Binary Spherical Quantization",
    Zhao et al., 2024): project to ``bits`` channels, l2-normalise ``u``, quantise to ``sign(u) / sqrt(bits)``
    (straight-through), project back to ``dim``.

    The optional entropy loss uses the code distribution ``softmax_c(-||u - c||^2 / T)`` over the
    ``2**bits`` codes, which factorises per bit with ``p(bit=+1) = sigmoid(4 u / (sqrt(bits) T))``: exact
    per-sample entropy, group-factorised codebook entropy (as in ``tokzoo.quant.lfq``).

    Args:
        dim: channel size of the input ``z[..., dim]``.
        bits: bits per token; codebook ``2**bits``; id = bits read as a binary number, first most significant.
        entropy_weight: weight of ``per_sample - diversity_gamma * codebook`` entropy (0 disables it).
        commitment_weight: weight of ``mse(u, q)``.
        diversity_gamma: weight of the codebook-entropy term.
        temperature: ``T`` of the soft code distribution.
        group_size: bits per group of the codebook-entropy estimate (at most 16).
    """

    def __init__(
        self,
        dim: int,
        bits: int,
        *,
        entropy_weight: float = 0.0,
        commitment_weight: float = 0.25,
        diversity_gamma: float = 1.0,
        temperature: float = 0.01,
        group_size: int = 8,
    ) -> None:
        super().__init__()
        setup_binary_codes(
            self,
            "bsq",
            dim,
            bits,
            entropy_weight,
            commitment_weight,
            diversity_gamma,
            temperature,
            group_size,
        )
        self.code_scale = 1.0 / math.sqrt(bits)

    def bit_logits(self, u: torch.Tensor) -> torch.Tensor:
        """Per-bit logits with ``p(bit=+1) = sigmoid(x)`` under ``softmax_c(-||u - c||^2 / T)``."""
        return 4.0 * self.code_scale * u / self.temperature

    def entropy_terms(self, u: torch.Tensor, *, sync: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean per-sample entropy (exact) and group-factorised codebook entropy, in nats (``sync``: over all
        DDP ranks' tokens)."""
        x = self.bit_logits(u.reshape(-1, self.bits))
        per_sample = batch_mean(bit_entropy(x).sum(-1), sync=sync)
        return per_sample, group_codebook_entropies(x, self.group_size, sync=sync).sum()

    def forward(self, z: torch.Tensor) -> QuantOut:
        # Float32 under bf16/fp16 autocast: normalisation and entropy logits are unsafe in half precision.
        with torch.autocast(device_type=z.device.type, enabled=False):
            return self._quantize(z.float())

    def _quantize(self, z: torch.Tensor) -> QuantOut:
        u = F.normalize(self.proj_in(z), dim=-1)
        positive = u > 0
        q = torch.where(positive, self.code_scale, -self.code_scale).to(u.dtype)
        ids = (positive.long() * self.bit_weights).sum(-1)
        loss = self.commitment_weight * safe_mse(u, q)
        stats = codebook_stats(ids, self.codebook_size)
        sync = self.training and torch.is_grad_enabled() and distributed()  # every rank joins the all-reduce
        if self.entropy_weight != 0 and (u.numel() > 0 or sync):
            per_sample, codebook = self.entropy_terms(u, sync=sync)
            loss = loss + self.entropy_weight * (per_sample - self.diversity_gamma * codebook)
            stats.update(per_sample_entropy=per_sample.detach(), codebook_entropy=codebook.detach())
        q = u + (q - u).detach()  # straight-through gradient to the encoder
        return QuantOut(self.proj_out(q), ids, loss, stats)

    def ids_to_codes(self, ids: torch.Tensor) -> torch.Tensor:
        """``ids[...] -> {-1, +1}[..., bits] / sqrt(bits)`` (before the output projection)."""
        return (((ids[..., None] & self.bit_weights) != 0).float() * 2 - 1) * self.code_scale

    def ids_to_latents(self, ids: torch.Tensor) -> torch.Tensor:
        return self.proj_out(self.ids_to_codes(ids))
