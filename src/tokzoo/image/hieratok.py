"""Multi-scale ViT tokenizer with scale-causal attention.

"HieraTok: Multi-Scale Visual Tokenizer Improves Image Reconstruction and Generation" (2025): the encoder's
token map is downsampled to several scales (1×1, 2×2, 4×4, … by area pooling) whose tokens form one coarse-to-fine
sequence; in the decoder a token attends only tokens of its own and coarser scales (a block-causal mask), so
information flows from global to detailed, and the image is read out by one mask token per patch.

With ``scale_drop`` the kept number of scales is sampled per sample in training, and ``encode(x, num_tokens=k)``
accepts any scale boundary ``k`` (1, 1+4, 1+4+16, …): a prefix of whole scales decodes on its own.
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
from tokzoo.image.vit_parts import PatchEmbed, PixelHead, QueryDecoder, check_image_size, token_table
from tokzoo.nn.transformer import Transformer, block_causal_mask, prefix_valid


@dataclass
class HieraTokConfig:
    """Hyper-parameters of ``HieraTokTokenizer`` (stored as the checkpoint's ``config``)."""

    image_size: int = 64
    patch_size: int = 8
    width: int = 128
    encoder_depth: int = 3
    decoder_depth: int = 3
    heads: int = 4
    mlp_ratio: float = 4.0
    scales: tuple[int, ...] = (1, 2, 4, 8)  # side of each scale's token map, coarse to fine
    scale_drop: bool = False
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
        check_quantizer_name(self.quantizer, "hieratok")
        grid = self.image_size // self.patch_size
        if not self.scales or list(self.scales) != sorted(set(self.scales)) or not self.scales[0] >= 1:
            raise ConfigError(f"hieratok: scales must be increasing positive sides, got {list(self.scales)}")
        if self.scales[-1] > grid or self.image_size % self.patch_size:
            raise ConfigError(f"hieratok: scales {list(self.scales)} must fit the {grid}x{grid} patch grid")

    @property
    def boundaries(self) -> list[int]:
        """Token counts at the end of each scale: 1, 5, 21, 85 for (1, 2, 4, 8)."""
        out, total = [], 0
        for s in self.scales:
            total += s * s
            out.append(total)
        return out


class HieraTokTokenizer(Tokenizer):
    """Images (B, 3, S, S) in [0, 1] → ``Tokens`` of layout ``multiscale`` (shape = the scale sides)."""

    modality = "image"

    def __init__(self, cfg: HieraTokConfig) -> None:
        super().__init__(cfg)
        c = cfg
        self.embed = PatchEmbed(c.image_size, c.patch_size, c.in_channels, c.width)
        self.encoder = Transformer(c.width, c.encoder_depth, c.heads, c.mlp_ratio)
        self.quantizer = build_token_quantizer(
            c.quantizer, c.width, codebook_size=c.codebook_size, code_dim=c.code_dim,
            normalize=c.normalize_codes, beta=c.beta, options=c.quantizer_options,
        )  # fmt: skip
        total = c.boundaries[-1]
        self.token_pos = token_table(total, c.width)
        self.decoder_in = nn.Linear(c.width, c.width)
        self.decoder = QueryDecoder(self.embed.grid, c.width, c.decoder_depth, c.heads, c.mlp_ratio)
        self.head = PixelHead(self.embed.grid, c.patch_size, c.in_channels, c.width)
        self.register_buffer("scale_mask", block_causal_mask([s * s for s in c.scales]), persistent=False)

    @property
    def vocab_size(self) -> int:
        return self.quantizer.codebook_size

    @property
    def downsample_factor(self) -> int:
        return self.cfg.patch_size

    def _latents(self, x: torch.Tensor) -> torch.Tensor:
        check_image_size(x, channels=self.cfg.in_channels, size=self.cfg.image_size)
        g = self.embed.grid
        fmap = self.encoder(self.embed(x)).transpose(1, 2).reshape(len(x), -1, g, g)
        pooled = [F.adaptive_avg_pool2d(fmap, s).flatten(2) for s in self.cfg.scales]
        return torch.cat(pooled, dim=2).transpose(1, 2)  # (B, T, width), coarse scales first

    def _decode_latents(self, zq: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        valid = prefix_valid(lengths, zq.shape[1])
        return self.head(self.decoder(self.decoder_in(zq) + self.token_pos, valid, self.scale_mask))

    def encode(self, x: torch.Tensor, *, num_tokens: int | None = None) -> Tokens:
        bounds = self.cfg.boundaries
        k = bounds[-1] if num_tokens is None else int(num_tokens)
        allowed = bounds if self.cfg.scale_drop else bounds[-1:]
        if k not in allowed:
            raise ValueError(
                f"{self.registry_name or 'hieratok'}: num_tokens must be one of {allowed}, got {k}"
            )
        ids = self.quantizer(self._latents(x)).ids[:, :k]
        meta = {"tokenizer": self.registry_name, "image_size": [int(x.shape[-2]), int(x.shape[-1])]}
        return Tokens.from_ids(ids, self.vocab_size, layout="multiscale", shape=self.cfg.scales, meta=meta)

    def decode(self, tokens: Tokens) -> torch.Tensor:
        bounds = self.cfg.boundaries
        if tokens.layout != "multiscale" or tokens.shape != self.cfg.scales:
            raise DataError(
                f"expected multiscale tokens of scales {list(self.cfg.scales)}, got {tokens.layout!r} {tokens.shape}"
            )
        if tokens.vocab_size != self.vocab_size:
            raise DataError(f"tokens have vocabulary {tokens.vocab_size}, this tokenizer {self.vocab_size}")
        bad = [n for n in tokens.lengths.tolist() if n not in bounds]
        if len(tokens) == 0 or bad:
            raise DataError(f"each sample needs a whole number of scales ({bounds} tokens), got {bad[:8]}")
        device = self.token_pos.device
        lengths = tokens.lengths.to(device)
        ids = torch.zeros(len(tokens), bounds[-1], dtype=torch.int64, device=device)
        width = min(bounds[-1], tokens.ids.shape[1])
        ids[:, :width] = tokens.ids[:, :width].to(device)
        ids = ids.masked_fill(~prefix_valid(lengths, bounds[-1]), 0)
        return self._decode_latents(self.quantizer.ids_to_latents(ids), lengths).clamp(0, 1)

    def loss(self, batch: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        c = self.cfg
        out = self.quantizer(self._latents(batch))
        bounds = torch.tensor(c.boundaries, device=batch.device)
        kept = torch.randint(0, len(bounds), (len(batch),), device=batch.device) if c.scale_drop else None
        lengths = bounds[kept] if kept is not None else bounds[-1].expand(len(batch))
        rec = self._decode_latents(out.latents, lengths)
        total, logs = reconstruction_loss(rec, batch, out.loss, c.l1_weight)
        logs["kept_tokens"] = lengths.float().mean()
        logs.update(out.stats)
        return total, logs


@register_tokenizer
def hieratok_t(**overrides: Any) -> HieraTokTokenizer:
    """HieraTok multi-scale tokens 1+4+16+64 with scale-causal decoding; 64 px, width 128 (CPU)."""
    return HieraTokTokenizer(replace(HieraTokConfig(), **overrides))


@register_tokenizer
def hieratok_s(**overrides: Any) -> HieraTokTokenizer:
    """HieraTok multi-scale tokens 1+4+…+256 with scale-causal decoding; 256 px, width 512 (GPU)."""
    base = HieraTokConfig(
        image_size=256, patch_size=16, width=512, encoder_depth=8, decoder_depth=8, heads=8,
        scales=(1, 2, 4, 8, 16), codebook_size=4096, code_dim=12,
    )  # fmt: skip
    return HieraTokTokenizer(replace(base, **overrides))
