"""A 2D-grid convolutional VQ autoencoder: VQGAN's encoder/decoder with a plain VQ bottleneck (no GAN yet).

"Taming Transformers for High-Resolution Image Synthesis" (Esser et al., 2021). One token per f×f patch,
laid out as an (H/f, W/f) grid in raster order.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import torch
import torch.nn.functional as F

from tokzoo.core.errors import ConfigError, DataError
from tokzoo.core.registry import register_tokenizer
from tokzoo.core.tokenizer import Tokenizer
from tokzoo.core.tokens import Tokens
from tokzoo.image.checks import check_image_batch
from tokzoo.nn.conv import ConvDecoder, ConvEncoder
from tokzoo.quant import Quantizer, build_quantizer


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
    quantizer: str = "vq"  # any single-id quantizer of tokzoo.quant: vq, fsq, lfq, gq, bsq, dual
    quantizer_options: dict[str, Any] = field(default_factory=dict)  # for quantizers other than "vq"

    def __post_init__(self) -> None:
        self.ch_mult = tuple(self.ch_mult)
        if self.quantizer not in SINGLE_ID_QUANTIZERS:
            raise ConfigError(
                f"grid tokenizer: quantizer {self.quantizer!r} is not one of {', '.join(SINGLE_ID_QUANTIZERS)} "
                "(one id per grid cell)"
            )


SINGLE_ID_QUANTIZERS = ("vq", "fsq", "lfq", "gq", "bsq", "dual")


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
    """Images (B, 3, H, W) in [0, 1] → ``Tokens`` of layout ``grid2d`` with shape (H/f, W/f)."""

    modality = "image"

    def __init__(self, cfg: GridVQConfig) -> None:
        super().__init__(cfg)
        c = cfg
        self.encoder = ConvEncoder(c.in_channels, c.ch, c.ch_mult, c.num_res_blocks, c.z_channels)
        self.quantizer = build_grid_quantizer(c)
        self.decoder = ConvDecoder(c.in_channels, c.ch, c.ch_mult, c.num_res_blocks, c.z_channels)

    @property
    def vocab_size(self) -> int:
        return self.quantizer.codebook_size

    @property
    def downsample_factor(self) -> int:
        return 2 ** (len(self.cfg.ch_mult) - 1)

    def _quantize(self, x: torch.Tensor):
        check_image_batch(x, channels=self.cfg.in_channels, factor=self.downsample_factor)
        z = self.encoder(x * 2 - 1).permute(0, 2, 3, 1)  # (B, h, w, C)
        return self.quantizer(z)

    def _decode_latents(self, zq: torch.Tensor) -> torch.Tensor:
        return (self.decoder(zq.permute(0, 3, 1, 2)) + 1) / 2

    def encode(self, x: torch.Tensor, *, num_tokens: int | None = None) -> Tokens:
        out = self._quantize(x)
        b, h, w = out.ids.shape
        if num_tokens is not None and num_tokens != h * w:
            raise ValueError(
                f"{self.registry_name or 'this tokenizer'} is fixed-length: a {x.shape[-2]}x{x.shape[-1]} image "
                f"always gives {h * w} tokens, not {num_tokens}"
            )
        meta = {"tokenizer": self.registry_name, "image_size": [int(x.shape[-2]), int(x.shape[-1])]}
        return Tokens.from_ids(
            out.ids.reshape(b, h * w), self.vocab_size, layout="grid2d", shape=(h, w), meta=meta
        )

    def decode(self, tokens: Tokens) -> torch.Tensor:
        if tokens.layout != "grid2d" or len(tokens.shape) != 2:
            raise DataError(f"expected grid2d tokens, got layout {tokens.layout!r} with shape {tokens.shape}")
        if tokens.vocab_size != self.vocab_size:
            raise DataError(f"tokens have vocabulary {tokens.vocab_size}, this tokenizer {self.vocab_size}")
        h, w = tokens.shape
        if len(tokens) == 0 or h < 1 or w < 1:
            raise DataError(f"nothing to decode: {len(tokens)} samples of grid shape {tokens.shape}")
        if int(tokens.lengths.min()) != h * w or int(tokens.lengths.max()) != h * w:
            raise DataError(f"grid2d tokens of shape {h}x{w} need {h * w} ids per sample")
        ids = tokens.ids[:, : h * w].reshape(-1, h, w).to(next(self.decoder.parameters()).device)
        return self._decode_latents(self.quantizer.ids_to_latents(ids)).clamp(0, 1)

    def loss(self, batch: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        out = self._quantize(batch)
        rec = self._decode_latents(out.latents)
        mse = F.mse_loss(rec, batch)
        l1 = F.l1_loss(rec, batch)
        total = mse + self.cfg.l1_weight * l1 + out.loss
        psnr = -10 * torch.log10(mse.detach().clamp_min(1e-10))
        logs = {"rec_mse": mse.detach(), "rec_l1": l1.detach(), "psnr": psnr, "vq_loss": out.loss.detach()}
        logs.update(out.stats)
        return total, logs


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
