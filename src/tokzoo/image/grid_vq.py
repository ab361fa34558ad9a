"""A 2D-grid convolutional autoencoder: VQGAN's encoder/decoder (no GAN yet) around any tokzoo bottleneck.

"Taming Transformers for High-Resolution Image Synthesis" (Esser et al., 2021). One latent per f×f patch, laid
out as an (H/f, W/f) grid in raster order; the bottleneck (``quantizer`` in the config, plain VQ by default) is
any registered quantizer, turned into ``Tokens`` by :class:`tokzoo.quant.Bottleneck`: one id per cell, ids per
cell × depth (rvq, ptq), VAR token maps across scales (msrq) or continuous values (kl).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import torch

from tokzoo.core.autoencode import AutoencodeOut
from tokzoo.core.errors import ConfigError, DataError
from tokzoo.core.registry import register_tokenizer
from tokzoo.core.tokenizer import Tokenizer
from tokzoo.core.tokens import Tokens
from tokzoo.image.checks import check_image_batch
from tokzoo.image.losses import autoencoder_loss
from tokzoo.nn.conv import ConvDecoder, ConvEncoder
from tokzoo.quant import Bottleneck, Quantizer, build_quantizer, list_quantizers


@dataclass
class GridVQConfig:
    """Hyper-parameters of ``GridVQTokenizer`` (stored as the checkpoint's ``config``)."""

    ch: int = 32
    ch_mult: tuple[int, ...] = (1, 2, 2, 4)
    num_res_blocks: int = 1
    z_channels: int = 64
    codebook_size: int = 1024
    code_dim: int = 8
    normalize_codes: bool = True
    beta: float = 0.25
    restart_decay: float = 0.9
    restart_threshold: float = 0.03
    l1_weight: float = 0.5
    in_channels: int = 3
    quantizer: str = "vq"  # any registered quantizer of tokzoo.quant (vq, fsq, lfq, gq, bsq, dual, rvq, ...)
    quantizer_options: dict[str, Any] = field(default_factory=dict)  # for quantizers other than "vq"
    value_dtype: str = "float16"  # how continuous (kl) tokens store their values: float16 or float32

    def __post_init__(self) -> None:
        self.ch_mult = tuple(self.ch_mult)
        if self.quantizer not in list_quantizers():
            raise ConfigError(
                f"grid tokenizer: unknown quantizer {self.quantizer!r}; available: {', '.join(list_quantizers())}"
            )


def build_grid_quantizer(c: GridVQConfig) -> Quantizer:
    """The bottleneck named by the config; ``vq`` takes its options from the config's own VQ fields."""
    if c.quantizer == "vq":
        options = dict(
            codebook_size=c.codebook_size, code_dim=c.code_dim, normalize=c.normalize_codes, beta=c.beta,
            restart_decay=c.restart_decay, restart_threshold=c.restart_threshold,
        )  # fmt: skip
        return build_quantizer("vq", c.z_channels, **{**options, **c.quantizer_options})
    return build_quantizer(c.quantizer, c.z_channels, **c.quantizer_options)


class GridVQTokenizer(Tokenizer):
    """Images (B, 3, H, W) in [0, 1] → ``Tokens`` over the (h, w) = (H/f, W/f) latent grid: layout ``grid2d``
    with shape (h, w) for single-id and continuous bottlenecks, ``grid2d+depth`` with shape (h, w, K) for
    residual / per-dimension ids, ``multiscale`` with the scales as shape for msrq (which needs h == w)."""

    modality = "image"

    def __init__(self, cfg: GridVQConfig) -> None:
        super().__init__(cfg)
        c = cfg
        self.encoder = ConvEncoder(c.in_channels, c.ch, c.ch_mult, c.num_res_blocks, c.z_channels)
        self.quantizer = build_grid_quantizer(c)
        self.bottleneck = Bottleneck(self.quantizer, value_dtype=c.value_dtype)
        self.decoder = ConvDecoder(c.in_channels, c.ch, c.ch_mult, c.num_res_blocks, c.z_channels)

    @property
    def vocab_size(self) -> int | None:
        return self.bottleneck.vocab_size

    @property
    def downsample_factor(self) -> int:
        return 2 ** (len(self.cfg.ch_mult) - 1)

    def _latents(self, x: torch.Tensor) -> tuple[torch.Tensor, tuple[int, int]]:
        """Encoder output as a (B, h*w, C) sequence in raster order, and its grid shape (h, w)."""
        check_image_batch(x, channels=self.cfg.in_channels, factor=self.downsample_factor)
        z = self.encoder(x * 2 - 1)
        b, c, h, w = z.shape
        return z.permute(0, 2, 3, 1).reshape(b, h * w, c), (h, w)

    def _decode_latents(self, zq: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
        h, w = shape
        return (self.decoder(zq.reshape(zq.shape[0], h, w, -1).permute(0, 3, 1, 2)) + 1) / 2

    def encode(self, x: torch.Tensor, *, num_tokens: int | None = None) -> Tokens:
        z, shape = self._latents(x)
        meta = {"tokenizer": self.registry_name, "image_size": [int(x.shape[-2]), int(x.shape[-1])]}
        tokens = self.bottleneck.encode(z, shape, meta=meta)
        if num_tokens is not None and num_tokens != tokens.ids.shape[1]:
            raise ValueError(
                f"{self.registry_name or 'this tokenizer'} is fixed-length: a {x.shape[-2]}x{x.shape[-1]} image "
                f"always gives {tokens.ids.shape[1]} tokens, not {num_tokens}"
            )
        return tokens

    def decode(self, tokens: Tokens) -> torch.Tensor:
        if tokens.layout not in ("grid2d", "grid2d+depth", "multiscale"):
            raise DataError(f"expected grid2d tokens, got layout {tokens.layout!r} with shape {tokens.shape}")
        latents = self.bottleneck.decode(tokens)
        shape = self.bottleneck.positions(tokens)
        if len(shape) != 2 or min(shape) < 1:
            raise DataError(
                f"expected an (h, w) grid of tokens, got layout {tokens.layout!r} shape {tokens.shape}"
            )
        return self._decode_latents(latents, shape).clamp(0, 1)

    @torch.no_grad()
    def fit_quantizer(self, images: torch.Tensor | Iterable[torch.Tensor]) -> GridVQTokenizer:
        """Fit a post-training bottleneck (``quantizer: ptq``) on this trained model's continuous latents of
        ``images`` (one (B, 3, H, W) batch in [0, 1] or an iterable of such batches); returns self."""
        device = next(self.encoder.parameters()).device
        batches = [images] if isinstance(images, torch.Tensor) else images
        z = torch.cat([self._latents(x.to(device))[0].flatten(0, 1) for x in batches])
        self.bottleneck.fit(z)
        return self

    def autoencode(self, batch: torch.Tensor) -> AutoencodeOut:
        z, shape = self._latents(batch)
        out = self.bottleneck(z, shape)
        return AutoencodeOut(self._decode_latents(out.latents, shape), out.loss, dict(out.stats))

    def last_layer(self) -> torch.Tensor:
        return self.decoder.net[-1].weight

    def loss(self, batch: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        return autoencoder_loss(self.autoencode(batch), batch, self.cfg.l1_weight)


def _build(base: GridVQConfig, overrides: dict[str, Any]) -> GridVQTokenizer:
    return GridVQTokenizer(replace(base, **overrides))


@register_tokenizer
def vq_f8_s(**overrides: Any) -> GridVQTokenizer:
    """2D VQ, 8x downsampling, 1024 codes, 32 base channels (CPU-trainable in minutes at 64 px)."""
    return _build(GridVQConfig(), overrides)


@register_tokenizer
def vq_f4_s(**overrides: Any) -> GridVQTokenizer:
    """2D VQ, 4x downsampling, 1024 codes, 32 base channels."""
    return _build(GridVQConfig(ch_mult=(1, 2, 4)), overrides)


@register_tokenizer
def vq_f8_b(**overrides: Any) -> GridVQTokenizer:
    """2D VQ, 8x downsampling, 4096 codes, 64 base channels, 2 res-blocks per level (GPU at 256 px)."""
    return _build(GridVQConfig(ch=64, num_res_blocks=2, codebook_size=4096, z_channels=128), overrides)


@register_tokenizer
def vq_f16_b(**overrides: Any) -> GridVQTokenizer:
    """2D VQ, 16x downsampling, 4096 codes, 64 base channels, 2 res-blocks per level (GPU at 256 px)."""
    return _build(
        GridVQConfig(ch=64, ch_mult=(1, 1, 2, 2, 4), num_res_blocks=2, codebook_size=4096, z_channels=128),
        overrides,
    )
