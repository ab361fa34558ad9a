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

from dataclasses import dataclass, field, replace
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from tokzoo.core.errors import ConfigError, DataError
from tokzoo.core.registry import register_tokenizer
from tokzoo.core.tokenizer import Tokenizer
from tokzoo.core.tokens import Tokens
from tokzoo.image.losses import reconstruction_loss
from tokzoo.image.token_quantizer import build_token_quantizer, check_quantizer_name
from tokzoo.image.vit_parts import PatchEmbed, PixelHead, QueryDecoder, check_image_size
from tokzoo.nn.transformer import Transformer, prefix_valid, sincos_2d


@dataclass
class MatryoshkaConfig:
    """Hyper-parameters of ``MatryoshkaTokenizer`` (stored as the checkpoint's ``config``)."""

    image_size: int = 64
    patch_size: int = 8
    width: int = 128
    encoder_depth: int = 3
    decoder_depth: int = 3
    heads: int = 4
    mlp_ratio: float = 4.0
    scales: tuple[int, ...] = (1, 2, 4, 8)  # pooled grid sides: 1, 4, 16, 64 tokens
    codebook_size: int = 1024
    code_dim: int = 8
    normalize_codes: bool = True
    beta: float = 0.25
    quantizer: str = "vq"
    quantizer_options: dict[str, Any] = field(default_factory=dict)
    l1_weight: float = 0.5
    in_channels: int = 3

    def __post_init__(self) -> None:
        self.scales = tuple(int(s) for s in self.scales)
        check_quantizer_name(self.quantizer, "matryoshka")
        grid = self.image_size // self.patch_size
        if not self.scales or list(self.scales) != sorted(set(self.scales)) or self.scales[0] < 1:
            raise ConfigError(
                f"matryoshka: scales must be increasing positive sides, got {list(self.scales)}"
            )
        if self.scales[-1] > grid or self.image_size % self.patch_size:
            raise ConfigError(f"matryoshka: scales {list(self.scales)} must fit the {grid}x{grid} patch grid")

    @property
    def token_counts(self) -> list[int]:
        return [s * s for s in self.scales]


class MatryoshkaTokenizer(Tokenizer):
    """Images (B, 3, S, S) in [0, 1] → ``Tokens`` of layout ``matryoshka``: s² ids per sample, s in ``scales``."""

    modality = "image"

    def __init__(self, cfg: MatryoshkaConfig) -> None:
        super().__init__(cfg)
        c = cfg
        self.embed = PatchEmbed(c.image_size, c.patch_size, c.in_channels, c.width)
        self.encoder = Transformer(c.width, c.encoder_depth, c.heads, c.mlp_ratio)
        self.quantizer = build_token_quantizer(
            c.quantizer, c.width, codebook_size=c.codebook_size, code_dim=c.code_dim,
            normalize=c.normalize_codes, beta=c.beta, options=c.quantizer_options,
        )  # fmt: skip
        g, longest = self.embed.grid, c.token_counts[-1]
        table = torch.zeros(len(c.scales), longest, c.width)
        for i, s in enumerate(c.scales):
            table[i, : s * s] = sincos_2d(s, s, c.width, stride=g / s)
        self.register_buffer("positions", table, persistent=False)
        self.scale_embed = nn.Parameter(torch.randn(len(c.scales), c.width) * 0.02)
        self.decoder_in = nn.Linear(c.width, c.width)
        self.decoder = QueryDecoder(g, c.width, c.decoder_depth, c.heads, c.mlp_ratio)
        self.head = PixelHead(g, c.patch_size, c.in_channels, c.width)

    @property
    def vocab_size(self) -> int:
        return self.quantizer.codebook_size

    @property
    def downsample_factor(self) -> int:
        return self.cfg.patch_size

    def _latents(self, x: torch.Tensor, side: int) -> torch.Tensor:
        check_image_size(x, channels=self.cfg.in_channels, size=self.cfg.image_size)
        g = self.embed.grid
        fmap = self.encoder(self.embed(x)).transpose(1, 2).reshape(len(x), -1, g, g)
        return F.adaptive_avg_pool2d(fmap, side).flatten(2).transpose(1, 2)  # (B, side², width)

    def _decode_latents(self, zq: torch.Tensor, scale_index: torch.Tensor) -> torch.Tensor:
        """``zq`` (B, L, width) right-padded; ``scale_index`` (B,) selects each sample's scale."""
        counts = torch.tensor(self.cfg.token_counts, device=zq.device)[scale_index]
        pos = self.positions[scale_index, : zq.shape[1]] + self.scale_embed[scale_index][:, None]
        h = self.decoder(self.decoder_in(zq) + pos, prefix_valid(counts, zq.shape[1]))
        return self.head(h)

    def _scale_index(self, num_tokens: int) -> int:
        counts = self.cfg.token_counts
        if num_tokens not in counts:
            raise ValueError(
                f"{self.registry_name or 'matryoshka'}: num_tokens must be one of {counts}, got {num_tokens}"
            )
        return counts.index(num_tokens)

    def encode(self, x: torch.Tensor, *, num_tokens: int | None = None) -> Tokens:
        index = self._scale_index(self.cfg.token_counts[-1] if num_tokens is None else int(num_tokens))
        ids = self.quantizer(self._latents(x, self.cfg.scales[index])).ids
        meta = {"tokenizer": self.registry_name, "image_size": [int(x.shape[-2]), int(x.shape[-1])]}
        return Tokens.from_ids(ids, self.vocab_size, layout="matryoshka", shape=self.cfg.scales, meta=meta)

    def decode(self, tokens: Tokens) -> torch.Tensor:
        counts = self.cfg.token_counts
        if tokens.layout != "matryoshka" or tokens.shape != self.cfg.scales:
            raise DataError(
                f"expected matryoshka tokens of scales {list(self.cfg.scales)}, got {tokens.layout!r} {tokens.shape}"
            )
        if tokens.vocab_size != self.vocab_size:
            raise DataError(f"tokens have vocabulary {tokens.vocab_size}, this tokenizer {self.vocab_size}")
        bad = [n for n in tokens.lengths.tolist() if n not in counts]
        if len(tokens) == 0 or bad:
            raise DataError(f"each sample needs one of {counts} tokens, got {bad[:8]}")
        device = self.scale_embed.device
        lengths = tokens.lengths.to(device)
        longest = int(lengths.max())
        ids = tokens.ids[:, :longest].to(device).masked_fill(~prefix_valid(lengths, longest), 0)
        index = torch.tensor([counts.index(n) for n in tokens.lengths.tolist()], device=device)
        return self._decode_latents(self.quantizer.ids_to_latents(ids), index).clamp(0, 1)

    def loss(self, batch: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        c = self.cfg
        index = int(torch.randint(0, len(c.scales), ()))  # one scale per step, drawn from the global RNG
        out = self.quantizer(self._latents(batch, c.scales[index]))
        rec = self._decode_latents(out.latents, torch.full((len(batch),), index, device=batch.device))
        total, logs = reconstruction_loss(rec, batch, out.loss, c.l1_weight)
        logs["kept_tokens"] = torch.tensor(float(c.token_counts[index]))
        logs.update(out.stats)
        return total, logs


@register_tokenizer
def matryoshka_t(**overrides: Any) -> MatryoshkaTokenizer:
    """Matryoshka/TokenFLEX: one model for 1, 4, 16 or 64 tokens (grid pooled per step); 64 px, width 128 (CPU)."""
    return MatryoshkaTokenizer(replace(MatryoshkaConfig(), **overrides))


@register_tokenizer
def matryoshka_s(**overrides: Any) -> MatryoshkaTokenizer:
    """Matryoshka/TokenFLEX: one model for 1, 4, 16, 64 or 256 tokens; 256 px, width 512 (GPU)."""
    base = MatryoshkaConfig(
        image_size=256, patch_size=16, width=512, encoder_depth=8, decoder_depth=8, heads=8,
        scales=(1, 2, 4, 8, 16), codebook_size=4096, code_dim=12,
    )  # fmt: skip
    return MatryoshkaTokenizer(replace(base, **overrides))
