"""Flexible-length 1-D tokens over a convolutional autoencoder's latent grid, as FlexTok does it.

"FlexTok: Resampling Images into 1D Token Sequences of Flexible Length" (Bachmann et al., 2025) does not tokenize
pixels: it first trains a VAE, freezes it, and *resamples the VAE's latent grid* into K causal register tokens
with nested dropout, so any prefix of the registers decodes (back to latents, then through the frozen VAE
decoder to pixels). This module is that design with tokzoo's parts:

- the 2-D grid is that of an FSQ grid tokenizer (:class:`~tokzoo.image.grid_vq.GridVQTokenizer`): its conv
  ``encoder``, FSQ ``quantizer`` and conv ``decoder`` keep their names, so ``init_partial`` from a trained grid
  tokenizer (e.g. ``pretrained:fsq-f16-s``) copies all three; with ``freeze_autoencoder`` they are not trained
  (FlexTok's frozen VAE) and the encoder runs without autograd;
- a ViT ``resampler`` reads the grid cells together with K learned registers, register i attending the cells and
  registers ≤ i (causal, so a prefix never depends on later tokens); only the registers are quantized, by their
  own ``token_quantizer`` (any single-id or continuous ``tokzoo.quant`` bottleneck, FSQ by default);
- a ``QueryDecoder`` (one query per grid cell, as in TiTok) turns the kept registers back into the latent grid,
  which the grid tokenizer's own FSQ snaps to its codes and its conv decoder renders. FlexTok's rectified-flow
  decoder is replaced by this deterministic one.

Training draws one kept length per sample (``drop_schedule``: ``pow2``, FlexTok's nested dropout, ``uniform``
or ``mixed``, half of each) and masks the dropped registers in the decoder, so every prefix 1..K is trained. With
``latent_loss`` (the default) the loss is FlexTok's: a regression onto the frozen encoder's latents — here in
the grid FSQ's bounded code space, the only part of the latent its decoder sees — so a step runs no conv decoder
and costs a fraction of a pixel-loss step; without it, the tokenizer's pixel loss through the frozen decoder.
With ``train_decoder`` (pixel loss, encoder and grid FSQ still frozen) the conv decoder is fine-tuned to render
the resampler's *continuous* predicted cells, not their nearest grid codes: a prediction from a short prefix is
an average over the images it could be, and the rounding to one code that the grid tokenizer's decoder needs
throws that away (FlexTok's own decoder is likewise trained on its resampler's output, not on the VAE's codes).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from tokzoo.core.errors import ConfigError
from tokzoo.core.presets import register_preset
from tokzoo.core.tokens import Tokens
from tokzoo.image.codec import ImageTokenizer
from tokzoo.image.vit_parts import check_image_size
from tokzoo.nn.conv import ConvDecoder, ConvEncoder
from tokzoo.nn.latent_resampler import LatentResampler
from tokzoo.nn.losses import autoencoder_loss
from tokzoo.nn.token_drop import check_schedule
from tokzoo.nn.transformer import sincos_2d
from tokzoo.quant import QuantizerConfig
from tokzoo.quant.fsq import FSQ


@dataclass
class LatentFlexConfig(QuantizerConfig):
    """Hyper-parameters of :class:`LatentFlexTokenizer` (stored as the checkpoint's ``config``): the FSQ grid
    tokenizer whose latents are resampled (as ``GridVQConfig``, with ``grid_levels``), the resampler ViT, the
    register count, their bottleneck (the ``QuantizerConfig`` fields) and the kept-length schedule."""

    image_size: int = 128
    ch: int = 32
    ch_mult: tuple[int, ...] = (1, 2, 2, 4, 4)
    num_res_blocks: int = 1
    z_channels: int = 64
    grid_levels: tuple[int, ...] = (8, 5, 5, 5)
    freeze_autoencoder: bool = True
    latent_loss: bool = True
    train_decoder: bool = False
    width: int = 192
    encoder_depth: int = 4
    decoder_depth: int = 4
    heads: int = 4
    mlp_ratio: float = 4.0
    num_tokens: int = 64
    drop_schedule: str = "pow2"  # "pow2" (FlexTok nested dropout) | "uniform" | "mixed" | "none" (fixed)
    min_tokens: int = 1
    l1_weight: float = 0.5
    in_channels: int = 3

    def __post_init__(self) -> None:
        self.ch_mult = tuple(self.ch_mult)
        self.grid_levels = tuple(self.grid_levels)
        if self.latent_loss and not self.freeze_autoencoder:
            raise ConfigError(
                "latent flex: latent_loss regresses onto a frozen encoder; set freeze_autoencoder"
            )
        if self.train_decoder and (self.latent_loss or not self.freeze_autoencoder):
            raise ConfigError(
                "latent flex: train_decoder fine-tunes the decoder alone with the pixel loss; set "
                "latent_loss: false and keep freeze_autoencoder"
            )
        factor = 2 ** (len(self.ch_mult) - 1)
        if self.image_size % factor:
            raise ConfigError(
                f"latent flex: image_size {self.image_size} is not a multiple of the conv downsampling {factor}"
            )
        if self.width % 4 or self.width % self.heads:
            raise ConfigError(
                f"latent flex: width {self.width} must be divisible by 4 and by heads {self.heads}"
            )
        check_schedule("latent flex", self.drop_schedule, self.num_tokens, self.min_tokens)
        self.check_quantizer(
            "latent flex", ("single", "continuous"), "a 1-D prefix holds one id or value vector per token"
        )

    @property
    def grid(self) -> int:
        """Cells per side of the latent grid at ``image_size``."""
        return self.image_size // 2 ** (len(self.ch_mult) - 1)

    @property
    def flexible(self) -> bool:
        return self.drop_schedule != "none"


class LatentFlexTokenizer(LatentResampler, ImageTokenizer):
    """Images (B, 3, S, S) in [0, 1] → ``Tokens`` of layout ``seq1d``: any prefix of 1..K register ids."""

    def __init__(self, cfg: LatentFlexConfig) -> None:
        super().__init__(cfg)
        c = cfg
        self.encoder = ConvEncoder(c.in_channels, c.ch, c.ch_mult, c.num_res_blocks, c.z_channels)
        self.quantizer = FSQ(c.z_channels, c.grid_levels)
        self.decoder = ConvDecoder(c.in_channels, c.ch, c.ch_mult, c.num_res_blocks, c.z_channels)
        if c.freeze_autoencoder:
            for part in (self.encoder, self.quantizer, self.decoder):
                part.requires_grad_(False)
        self.decoder.requires_grad_(not c.freeze_autoencoder or c.train_decoder)
        self._build_resampler(sincos_2d(c.grid, c.grid, c.width))

    @property
    def input_size(self) -> int:
        return self.cfg.image_size

    @property
    def downsample_factor(self) -> int:
        return 2 ** (len(self.cfg.ch_mult) - 1)

    def _cells(self, x: torch.Tensor) -> torch.Tensor:
        """(B, g², z_channels) encoder latents of images ``x`` in raster order."""
        check_image_size(x, channels=self.cfg.in_channels, size=self.cfg.image_size)
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.cfg.freeze_autoencoder):
            return self.encoder(x * 2 - 1).flatten(2).transpose(1, 2)

    def _render(self, cells: torch.Tensor) -> torch.Tensor:
        """Latent cells (B, g², z_channels) → images (unclamped), through the grid's FSQ (rounded to its codes
        unless ``train_decoder``) and conv decoder."""
        g = self.cfg.grid
        if self.cfg.train_decoder:
            latents = self.quantizer.soft_latents(cells)
        else:
            latents = self.quantizer(cells).latents
        return (self.decoder(latents.transpose(1, 2).reshape(len(cells), -1, g, g)) + 1) / 2

    def encode(self, x: torch.Tensor, *, num_tokens: int | None = None) -> Tokens:
        meta = {"tokenizer": self.registry_name, "image_size": [int(x.shape[-2]), int(x.shape[-1])]}
        return self._encode_cells(self._cells(x), num_tokens, meta)

    def last_layer(self) -> torch.Tensor:
        """The last trained layer (the conv decoder's output, or ``grid_out`` when the decoder is frozen)."""
        trained = not self.cfg.freeze_autoencoder or self.cfg.train_decoder
        return self.decoder.net[-1].weight if trained else self.grid_out.weight

    def loss(self, batch: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Pixel loss, or (``latent_loss``) MSE in the grid FSQ's code space plus the share of cells whose grid
        code the kept prefix reproduces (``code_match``)."""
        if not self.cfg.latent_loss:
            return autoencoder_loss(self.autoencode(batch), batch, self.cfg.l1_weight)
        cells = self._cells(batch)
        return self._latent_loss(cells, *self._resample(cells))


register_preset(
    "flex-f16-s-64", LatentFlexTokenizer,
    LatentFlexConfig(quantizer="fsq", quantizer_options={"levels": [8, 5, 5, 5]}),
    "FlexTok-style 1D tokens at 128 px over fsq-f16-s's frozen 8x8 latent grid: any prefix of 1..64 FSQ tokens "
    "(10 bits each) decodes (pretrained).",
)  # fmt: skip
