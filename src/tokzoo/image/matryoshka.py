"""Matryoshka token counts from a 2D grid: one model, nested budgets 1, 4, 16, 64, … tokens.

"Matryoshka Multimodal Models" (Cai et al., 2024; M3) pools a grid of visual tokens to nested coarse-to-fine
scales; "TokenFLEX: Unified VLM Training for Flexible Visual Tokens Inference" (Hu et al., 2025) trains one model
across token counts by drawing the count at random during training. Here a ViT encoder gives an (g, g) token
map that is average-pooled to s×s for a scale s drawn per training step; the s² tokens are quantized and a
ViT decoder reads them out with one mask token per patch. Each token carries a sine-cosine position at its cell
centre on the common g×g frame plus a learned embedding of its scale. Unlike the 1D tokenizers the budgets are
not prefixes of each other: each count is its own encoding. Samples with different counts share a batch in
``decode`` through a key-padding mask.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from tokzoo.core.autoencode import AutoencodeOut
from tokzoo.core.presets import register_preset
from tokzoo.core.tokens import Tokens
from tokzoo.image.pooled_vit import PooledViTConfig, PooledViTTokenizer
from tokzoo.nn.transformer import prefix_valid, sincos_2d


@dataclass
class MatryoshkaConfig(PooledViTConfig):
    """Hyper-parameters of ``MatryoshkaTokenizer`` (stored as the checkpoint's ``config``); ``scales`` are the
    pooled grid sides: 1, 4, 16, 64 tokens by default."""

    def __post_init__(self) -> None:
        self.check_scales("matryoshka")

    @property
    def token_counts(self) -> list[int]:
        return [s * s for s in self.scales]


class MatryoshkaTokenizer(PooledViTTokenizer):
    """Images (B, 3, S, S) in [0, 1] → ``Tokens`` of layout ``matryoshka``: s² ids per sample, s in ``scales``."""

    layout = "matryoshka"

    def build_token_positions(self) -> None:
        c = self.cfg
        g, longest = self.embed.grid, c.token_counts[-1]
        table = torch.zeros(len(c.scales), longest, c.width)
        for i, s in enumerate(c.scales):
            table[i, : s * s] = sincos_2d(s, s, c.width, stride=g / s)
        self.register_buffer("positions", table, persistent=False)
        # a small learned offset per scale; the unit-scale sin-cos positions above carry the layout
        self.scale_embed = nn.Parameter(torch.randn(len(c.scales), c.width) * 0.02)

    def _decode_latents(self, zq: torch.Tensor, scale_index: torch.Tensor) -> torch.Tensor:
        """``zq`` (B, L, width) right-padded; ``scale_index`` (B,) selects each sample's scale."""
        counts = torch.tensor(self.cfg.token_counts, device=zq.device)[scale_index]
        pos = self.positions[scale_index, : zq.shape[1]] + self.scale_embed[scale_index][:, None]
        h = self.decoder(self.decoder_in(zq) + pos, prefix_valid(counts, zq.shape[1]))
        return self.head(h)

    def token_counts(self) -> list[int]:
        """One count per nested grid: s² for s in ``scales``."""
        return self.cfg.token_counts

    def _scale_index(self, num_tokens: int) -> int:
        counts = self.cfg.token_counts
        if num_tokens not in counts:
            raise ValueError(
                f"{self.registry_name or 'matryoshka'}: num_tokens must be one of {counts}, got {num_tokens}"
            )
        return counts.index(num_tokens)

    def encode(self, x: torch.Tensor, *, num_tokens: int | None = None) -> Tokens:
        index = self._scale_index(self.cfg.token_counts[-1] if num_tokens is None else int(num_tokens))
        return self.make_tokens(self.quantizer(self.pooled(x, [self.cfg.scales[index]])).ids, x)

    def decode(self, tokens: Tokens) -> torch.Tensor:
        """Samples of different budgets share a batch (right-padded, key-padding mask)."""
        counts = self.cfg.token_counts
        lengths = self.check_tokens(tokens, counts)
        longest = int(lengths.max())
        ids = tokens.ids[:, :longest].to(lengths.device).masked_fill(~prefix_valid(lengths, longest), 0)
        index = torch.tensor([counts.index(n) for n in tokens.lengths.tolist()], device=lengths.device)
        return self._decode_latents(self.quantizer.ids_to_latents(ids), index).clamp(0, 1)

    def autoencode(self, batch: torch.Tensor) -> AutoencodeOut:
        c = self.cfg
        index = int(torch.randint(0, len(c.scales), ()))  # one scale per step, drawn from the global RNG
        latents = self.pooled(batch, [c.scales[index]])
        scale = torch.full((len(batch),), index, device=batch.device)
        count = torch.tensor(float(c.token_counts[index]))
        return self.quantize_and_decode(latents, lambda zq: self._decode_latents(zq, scale), count)


register_preset(
    "matryoshka-t", MatryoshkaTokenizer, MatryoshkaConfig(),
    "Matryoshka/TokenFLEX: one model for 1, 4, 16 or 64 tokens (grid pooled per step); 64 px, width 128 (CPU).",
)  # fmt: skip
register_preset(
    "matryoshka-s", MatryoshkaTokenizer,
    MatryoshkaConfig(
        image_size=256, patch_size=16, width=512, encoder_depth=8, decoder_depth=8, heads=8,
        scales=(1, 2, 4, 8, 16), codebook_size=4096, code_dim=12,
    ),
    "Matryoshka/TokenFLEX: one model for 1, 4, 16, 64 or 256 tokens; 256 px, width 512 (GPU).",
)  # fmt: skip
