"""A 2D-grid convolutional autoencoder: VQGAN's encoder/decoder (no GAN yet) around any tokzoo bottleneck.

"Taming Transformers for High-Resolution Image Synthesis" (Esser et al., 2021). One latent per f×f patch, laid
out as an (H/f, W/f) grid in raster order; the bottleneck (``quantizer`` in the config, plain VQ by default) is
any registered quantizer, turned into ``Tokens`` by :class:`tokzoo.quant.Bottleneck`: one id per cell, ids per
cell × depth (rvq, ptq), VAR token maps across scales (msrq) or continuous values (kl).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import torch

from tokzoo.core.autoencode import AutoencodeOut
from tokzoo.core.errors import ConfigError, DataError
from tokzoo.core.presets import register_preset
from tokzoo.core.tokens import Tokens
from tokzoo.image.checks import check_image_batch
from tokzoo.image.codec import ImageTokenizer
from tokzoo.nn.conv import ConvDecoder, ConvEncoder
from tokzoo.nn.losses import autoencoder_loss
from tokzoo.quant import Bottleneck, QuantizerConfig


@dataclass
class GridVQConfig(QuantizerConfig):
    """Hyper-parameters of ``GridVQTokenizer`` (stored as the checkpoint's ``config``): the bottleneck fields
    of :class:`~tokzoo.quant.QuantizerConfig` (any registered quantizer), the conv sizes and the loss."""

    ch: int = 32
    ch_mult: tuple[int, ...] = (1, 2, 2, 4)
    num_res_blocks: int = 1
    z_channels: int = 64
    l1_weight: float = 0.5
    in_channels: int = 3
    value_dtype: str = "float16"  # how continuous (kl) tokens store their values: float16 or float32

    def __post_init__(self) -> None:
        self.ch_mult = tuple(self.ch_mult)
        self.check_quantizer("grid tokenizer")


class GridVQTokenizer(ImageTokenizer):
    """Images (B, 3, H, W) in [0, 1] → ``Tokens`` over the (h, w) = (H/f, W/f) latent grid: layout ``grid2d``
    with shape (h, w) for single-id and continuous bottlenecks, ``grid2d+depth`` with shape (h, w, K) for
    residual / per-dimension ids, ``multiscale`` with the scales as shape for msrq (which needs h == w)."""

    def __init__(self, cfg: GridVQConfig) -> None:
        super().__init__(cfg)
        c = cfg
        self.encoder = ConvEncoder(c.in_channels, c.ch, c.ch_mult, c.num_res_blocks, c.z_channels)
        self.quantizer = c.build_quantizer(c.z_channels)
        self.bottleneck = Bottleneck(self.quantizer, value_dtype=c.value_dtype)
        self.decoder = ConvDecoder(c.in_channels, c.ch, c.ch_mult, c.num_res_blocks, c.z_channels)

    @property
    def vocab_size(self) -> int | None:
        return self.bottleneck.vocab_size

    @property
    def downsample_factor(self) -> int:
        return 2 ** (len(self.cfg.ch_mult) - 1)

    @property
    def input_size(self) -> int:
        """Any multiple of the downsampling factor works; two latent cells a side is the smallest grid."""
        return 2 * self.downsample_factor

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
    def fit(self, data: torch.Tensor | Iterable[torch.Tensor]) -> dict[str, int]:
        """Fit a post-training bottleneck (``quantizer: ptq``, or ``kl`` with ``store_bins``) on this trained
        model's continuous latents of ``data``: one (B, 3, H, W) batch in [0, 1], or an iterable of such batches or
        of (3, H, W) images."""
        if not self.quantizer.fittable:
            raise ConfigError(
                f"{self.registry_name}: its {self.cfg.quantizer} bottleneck is trained with the model (tokzoo "
                "train), not fitted; only a post-training bottleneck (quantizer ptq, or kl with store_bins) is "
                "fitted"
            )
        device = next(self.encoder.parameters()).device
        batches = [data] if isinstance(data, torch.Tensor) else data
        z = torch.cat(
            [self._latents(x.to(device).reshape(-1, *x.shape[-3:]))[0].flatten(0, 1) for x in batches]
        )
        self.bottleneck.fit(z)
        return {"latents": len(z)}

    def autoencode(self, batch: torch.Tensor) -> AutoencodeOut:
        z, shape = self._latents(batch)
        out = self.bottleneck(z, shape)
        return AutoencodeOut(self._decode_latents(out.latents, shape), out.loss, dict(out.stats))

    def last_layer(self) -> torch.Tensor:
        return self.decoder.net[-1].weight

    def loss(self, batch: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        return autoencoder_loss(self.autoencode(batch), batch, self.cfg.l1_weight)


register_preset(
    "vq-f8-s", GridVQTokenizer, GridVQConfig(),
    "2D VQ, 8x downsampling, 1024 codes, 32 base channels (CPU-trainable in minutes at 64 px).",
)  # fmt: skip
register_preset(
    "vq-f4-s",
    GridVQTokenizer,
    GridVQConfig(ch_mult=(1, 2, 4)),
    "2D VQ, 4x downsampling, 1024 codes, 32 base channels.",
)
register_preset(
    "vq-f8-b", GridVQTokenizer, GridVQConfig(ch=64, num_res_blocks=2, codebook_size=4096, z_channels=128),
    "2D VQ, 8x downsampling, 4096 codes, 64 base channels, 2 res-blocks per level (GPU at 256 px).",
)  # fmt: skip
register_preset(
    "vq-f16-b", GridVQTokenizer,
    GridVQConfig(ch=64, ch_mult=(1, 1, 2, 2, 4), num_res_blocks=2, codebook_size=4096, z_channels=128),
    "2D VQ, 16x downsampling, 4096 codes, 64 base channels, 2 res-blocks per level (GPU at 256 px).",
)  # fmt: skip
