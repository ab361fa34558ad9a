"""Flexible-length 1-D tokens for a whole clip, coarse to fine, in the style of VideoFlexTok.

"VideoFlexTok: Flexible-Length Coarse-to-Fine Video Tokenization" (2025), after FlexTok ("FlexTok: Resampling
Images into 1D Token Sequences of Flexible Length", Bachmann et al., 2025): a transformer encoder reads the
clip's space-time patches together with K register tokens; registers attend to every patch and, causally, to the
registers before them, so the first k tokens never depend on the later ones. Each register is quantized (FSQ by
default) and becomes one token of a ``seq1d`` sequence. In training, nested dropout keeps a random prefix of
k registers per clip (k from {1, 2, 4, ..., K}), so any prefix decodes: the decoder fills mask tokens at every
patch position from the kept registers alone. Few tokens carry the coarse content (layout, motion), more add
detail; ``encode(x, num_tokens=k)`` gives the first k tokens, and a batch may mix lengths.

This is a CPU-scale model: one patch per frame per cell (no tubelets), full space-time attention, a fixed clip
size (``frames`` x ``image_size``²). VideoFlexTok's decoder is a rectified-flow model; here it is a plain
regression decoder (MSE + L1), as in tokzoo's image FlexTok-style models.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from tokzoo.core.autoencode import AutoencodeOut
from tokzoo.core.errors import ConfigError, DataError
from tokzoo.core.presets import register_preset
from tokzoo.core.tokens import Tokens
from tokzoo.nn.losses import autoencoder_loss
from tokzoo.nn.transformer import Transformer, block_causal_mask, prefix_valid
from tokzoo.quant import Bottleneck, QuantizerConfig
from tokzoo.video.checks import as_clip_batch
from tokzoo.video.codec import FixedClipTokenizer


@dataclass
class VideoFlexConfig(QuantizerConfig):
    """Hyper-parameters of :class:`VideoFlexTokenizer` (clip size, ViT sizes, register count, bottleneck)."""

    quantizer: str = "fsq"
    quantizer_options: dict[str, Any] = field(default_factory=lambda: {"levels": [8, 5, 5, 5]})
    frames: int = 9
    image_size: int = 64
    patch_size: int = 16
    width: int = 128
    encoder_depth: int = 2
    decoder_depth: int = 2
    heads: int = 4
    num_tokens: int = 32
    latent_dim: int = 4
    l1_weight: float = 0.5
    in_channels: int = 3
    nested_dropout: bool = True  # False: always all num_tokens (a fixed-length model, the comparison)

    def __post_init__(self) -> None:
        self.check_quantizer("flexible video tokenizer", ("single",), "one id per token")
        if self.image_size % self.patch_size:
            raise ConfigError(
                f"image_size {self.image_size} is not a multiple of patch_size {self.patch_size}"
            )
        if self.frames < 1:
            raise ConfigError(f"frames must be at least 1, got {self.frames}")


def pow2_lengths(batch: int, num_tokens: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Nested-dropout prefix lengths: each drawn uniformly from {1, 2, 4, ..., num_tokens} (and num_tokens)."""
    choices = sorted({min(2**i, num_tokens) for i in range(math.ceil(math.log2(num_tokens)) + 1)})
    pick = torch.randint(len(choices), (batch,), generator=generator)
    return torch.tensor(choices)[pick]


class VideoFlexTokenizer(FixedClipTokenizer):
    """Clips (B, 3, frames, S, S) in [0, 1] → 1..K ``seq1d`` tokens per clip (any prefix decodes)."""

    def __init__(self, cfg: VideoFlexConfig) -> None:
        super().__init__(cfg)
        c = cfg
        side = c.image_size // c.patch_size
        self.num_patches = c.frames * side * side
        patch_dim = c.in_channels * c.patch_size**2
        self.patch_embed = nn.Linear(patch_dim, c.width)
        self.patch_pos = nn.Parameter(torch.randn(self.num_patches, c.width) * 0.02)
        self.registers = nn.Parameter(torch.randn(c.num_tokens, c.width) * 0.02)
        self.encoder = Transformer(c.width, c.encoder_depth, c.heads)
        self.to_latent = nn.Linear(c.width, c.latent_dim)
        self.quantizer = c.build_quantizer(c.latent_dim)
        self.bottleneck = Bottleneck(self.quantizer)
        self.from_latent = nn.Linear(c.latent_dim, c.width)
        self.token_pos = nn.Parameter(torch.randn(c.num_tokens, c.width) * 0.02)
        self.mask_token = nn.Parameter(torch.zeros(c.width))
        self.decoder = Transformer(c.width, c.decoder_depth, c.heads)
        self.to_pixels = nn.Linear(c.width, patch_dim)

    @property
    def vocab_size(self) -> int | None:
        return self.bottleneck.vocab_size

    @property
    def time_factor(self) -> int:
        """A clip is ``frames`` frames: 1 + (frames - 1)·1."""
        return max(self.cfg.frames - 1, 1)

    def token_counts(self) -> list[int]:
        return list(range(1, self.cfg.num_tokens + 1))

    # ------------------------------------------------------------------------------------------------ layout
    def _patches(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, T, S, S) → (B, T·h·w, 3·p·p) in (t, h, w) raster order."""
        b, c, t, s, _ = x.shape
        p, n = self.cfg.patch_size, s // self.cfg.patch_size
        return x.reshape(b, c, t, n, p, n, p).permute(0, 2, 3, 5, 1, 4, 6).reshape(b, t * n * n, c * p * p)

    def _unpatch(self, patches: torch.Tensor) -> torch.Tensor:
        c = self.cfg
        b, n = patches.shape[0], c.image_size // c.patch_size
        p = c.patch_size
        x = patches.reshape(b, c.frames, n, n, c.in_channels, p, p).permute(0, 4, 1, 2, 5, 3, 6)
        return x.reshape(b, c.in_channels, c.frames, c.image_size, c.image_size)

    # ----------------------------------------------------------------------------------------------- encoder
    def _encoder_mask(self, device: torch.device) -> torch.Tensor:
        """Patches see patches; register i sees every patch and registers 0..i."""
        n, k = self.num_patches, self.cfg.num_tokens
        mask = torch.zeros(n + k, n + k, dtype=torch.bool, device=device)
        mask[:n, :n] = True
        mask[n:, :n] = True
        mask[n:, n:] = block_causal_mask([1] * k, device)
        return mask

    def _latents(self, x: torch.Tensor) -> torch.Tensor:
        """The K register latents (B, K, latent_dim) of clips ``x``."""
        x = self._check_clip(x)
        h = self.patch_embed(self._patches(x * 2 - 1)) + self.patch_pos
        regs = self.registers.expand(x.shape[0], -1, -1)
        out = self.encoder(torch.cat([h, regs], dim=1), self._encoder_mask(x.device))
        return self.to_latent(out[:, self.num_patches :])

    # ----------------------------------------------------------------------------------------------- decoder
    def _decode_latents(self, zq: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Clips from the first ``lengths[i]`` quantized latents of each sample (the rest are ignored)."""
        b, n = zq.shape[0], self.num_patches
        tokens = self.from_latent(zq) + self.token_pos[: zq.shape[1]]
        queries = (self.mask_token + self.patch_pos).expand(b, -1, -1)
        valid = torch.cat(
            [
                torch.ones(b, n, dtype=torch.bool, device=zq.device),
                prefix_valid(lengths.to(zq.device), zq.shape[1]),
            ],
            dim=1,
        )
        mask = valid[:, None, :].expand(b, n + zq.shape[1], n + zq.shape[1])
        out = self.decoder(torch.cat([queries, tokens], dim=1), mask)
        return (self._unpatch(self.to_pixels(out[:, :n])) + 1) / 2

    # -------------------------------------------------------------------------------------------------- codec
    def encode(self, x: torch.Tensor, *, num_tokens: int | None = None) -> Tokens:
        k = self.cfg.num_tokens if num_tokens is None else num_tokens
        if not 1 <= k <= self.cfg.num_tokens:
            raise ValueError(f"num_tokens must be in 1..{self.cfg.num_tokens}, got {num_tokens}")
        z = self._latents(x)[:, :k]
        meta = {"tokenizer": self.registry_name}
        return self.bottleneck.encode(z, (k,), meta=meta)

    def decode(self, tokens: Tokens) -> torch.Tensor:
        if tokens.layout != "seq1d" or tokens.ids.shape[1] > self.cfg.num_tokens:
            raise DataError(
                f"expected seq1d tokens of at most {self.cfg.num_tokens} per clip, got layout {tokens.layout!r} "
                f"with {tokens.ids.shape[1]}"
            )
        zq = self.bottleneck.decode(tokens)
        return self._decode_latents(zq, tokens.lengths).clamp(0, 1)

    # ------------------------------------------------------------------------------------------------ training
    def autoencode(self, batch: torch.Tensor) -> AutoencodeOut:
        z = self._latents(batch)
        out = self.bottleneck(z, (z.shape[1],))
        nested = self.training and self.cfg.nested_dropout
        lengths = pow2_lengths(z.shape[0], self.cfg.num_tokens) if nested else None
        if lengths is None:
            lengths = torch.full((z.shape[0],), z.shape[1])
        rec = self._decode_latents(out.latents, lengths)
        return AutoencodeOut(rec, out.loss, dict(out.stats))

    def last_layer(self) -> torch.Tensor:
        return self.to_pixels.weight

    def loss(self, batch: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """``MSE + l1_weight·L1 + bottleneck loss`` with nested dropout of the registers (training mode, unless
        ``nested_dropout`` is off)."""
        return autoencoder_loss(self.autoencode(batch), as_clip_batch(batch), self.cfg.l1_weight)


register_preset(
    "video-flex-t-32", VideoFlexTokenizer, VideoFlexConfig(),
    "VideoFlexTok-style 1-D tokens for 9-frame 64 px clips: any prefix of 1..32 FSQ tokens (10 bits each) decodes.",
)  # fmt: skip
