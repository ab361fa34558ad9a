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

Training draws one kept length per sample (``drop_schedule``: ``pow2``, FlexTok's nested dropout, or
``uniform``) and masks the dropped registers in the decoder, so every prefix 1..K is trained. With
``latent_loss`` (the default) the loss is FlexTok's: a regression onto the frozen encoder's latents — here in
the grid FSQ's bounded code space, the only part of the latent its decoder sees — so a step runs no conv decoder
and costs a fraction of a pixel-loss step; without it, the tokenizer's pixel loss through the frozen decoder.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from tokzoo.core.autoencode import AutoencodeOut
from tokzoo.core.errors import ConfigError, DataError
from tokzoo.core.presets import register_preset
from tokzoo.core.tokens import Tokens
from tokzoo.image.codec import ImageTokenizer
from tokzoo.image.token_drop import causal_register_mask, check_schedule, sample_keep_lengths
from tokzoo.image.vit_parts import QueryDecoder, check_image_size, token_table
from tokzoo.nn.conv import ConvDecoder, ConvEncoder
from tokzoo.nn.losses import autoencoder_loss
from tokzoo.nn.transformer import Transformer, prefix_valid, sincos_2d
from tokzoo.quant import Bottleneck, QuantizerConfig
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
    width: int = 192
    encoder_depth: int = 4
    decoder_depth: int = 4
    heads: int = 4
    mlp_ratio: float = 4.0
    num_tokens: int = 64
    drop_schedule: str = "pow2"  # "pow2" (FlexTok nested dropout) | "uniform" | "none" (fixed length)
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


class LatentFlexTokenizer(ImageTokenizer):
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
        n = c.grid**2
        self.grid_in = nn.Linear(c.z_channels, c.width)
        self.grid_pos = nn.Parameter(sincos_2d(c.grid, c.grid, c.width))
        self.registers = token_table(c.num_tokens, c.width)
        self.resampler = Transformer(c.width, c.encoder_depth, c.heads, c.mlp_ratio)
        self.token_quantizer = c.build_quantizer(c.width)
        self.bottleneck = Bottleneck(
            self.token_quantizer
        )  # a helper object, not a module: no weights of its own
        self.token_pos = token_table(c.num_tokens, c.width)
        self.token_in = nn.Linear(c.width, c.width)
        self.token_decoder = QueryDecoder(c.grid, c.width, c.decoder_depth, c.heads, c.mlp_ratio)
        self.grid_out = nn.Linear(c.width, c.z_channels)
        self.register_buffer("resampler_mask", causal_register_mask(n, c.num_tokens), persistent=False)

    @property
    def vocab_size(self) -> int | None:
        return self.bottleneck.vocab_size

    @property
    def input_size(self) -> int:
        return self.cfg.image_size

    @property
    def downsample_factor(self) -> int:
        return 2 ** (len(self.cfg.ch_mult) - 1)

    def token_counts(self) -> list[int]:
        """Every prefix length 1..K of a flexible model; K alone of a fixed-length one."""
        k_max = self.cfg.num_tokens
        return list(range(1, k_max + 1)) if self.cfg.flexible else [k_max]

    def _cells(self, x: torch.Tensor) -> torch.Tensor:
        """(B, g², z_channels) encoder latents of images ``x`` in raster order."""
        check_image_size(x, channels=self.cfg.in_channels, size=self.cfg.image_size)
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.cfg.freeze_autoencoder):
            return self.encoder(x * 2 - 1).flatten(2).transpose(1, 2)

    def _registers(self, cells: torch.Tensor) -> torch.Tensor:
        """(B, K, width) register outputs of the resampler for the latent ``cells``."""
        seq = torch.cat(
            [self.grid_in(cells) + self.grid_pos, self.registers.expand(len(cells), -1, -1)], dim=1
        )
        return self.resampler(seq, self.resampler_mask)[:, -self.cfg.num_tokens :]

    def _predict_cells(self, zq: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Quantized registers (B, K, width), of which the first ``lengths[b]`` count → (B, g², z_channels)."""
        h = self.token_decoder(self.token_in(zq) + self.token_pos, prefix_valid(lengths, zq.shape[1]))
        return self.grid_out(h)

    def _render(self, cells: torch.Tensor) -> torch.Tensor:
        """Latent cells (B, g², z_channels) → images (unclamped), through the grid's FSQ and conv decoder."""
        g = self.cfg.grid
        snapped = self.quantizer(cells).latents
        return (self.decoder(snapped.transpose(1, 2).reshape(len(cells), -1, g, g)) + 1) / 2

    def _code_space(self, cells: torch.Tensor) -> torch.Tensor:
        """The grid FSQ's bounded pre-rounding values of ``cells``: what its rounding (and decoder) sees."""
        return self.quantizer.bound(self.quantizer.proj_in(cells))

    def encode(self, x: torch.Tensor, *, num_tokens: int | None = None) -> Tokens:
        k_max = self.cfg.num_tokens
        k = k_max if num_tokens is None else int(num_tokens)
        if not self.cfg.flexible and k != k_max:
            raise ValueError(
                f"{self.registry_name or 'this tokenizer'} is fixed-length ({k_max} tokens), not {k}"
            )
        if not 1 <= k <= k_max:
            raise ValueError(f"num_tokens must be in [1, {k_max}], got {k}")
        meta = {"tokenizer": self.registry_name, "image_size": [int(x.shape[-2]), int(x.shape[-1])]}
        return self.bottleneck.encode(self._registers(self._cells(x))[:, :k], meta=meta)

    def decode(self, tokens: Tokens) -> torch.Tensor:
        k_max = self.cfg.num_tokens
        if tokens.layout != "seq1d":
            raise DataError(f"expected seq1d tokens, got layout {tokens.layout!r}")
        lengths = tokens.lengths
        if len(tokens) == 0 or int(lengths.min()) < 1 or int(lengths.max()) > k_max:
            raise DataError(
                f"every sample needs 1..{k_max} tokens to decode, got lengths {lengths.tolist()[:8]}"
            )
        zq = self.bottleneck.decode(tokens)  # (B, L, width), zeros beyond each sample's length
        zq = F.pad(zq[:, :k_max], (0, 0, 0, k_max - min(k_max, zq.shape[1])))
        return self._render(self._predict_cells(zq, lengths.to(zq.device))).clamp(0, 1)

    def _forward_cells(self, batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, dict, torch.Tensor]:
        """(encoder cells, predicted cells from a random kept prefix per sample, logs, token aux loss)."""
        c = self.cfg
        cells = self._cells(batch)
        out = self.bottleneck(self._registers(cells))
        lengths = sample_keep_lengths(
            len(batch), c.num_tokens, c.drop_schedule, min_tokens=c.min_tokens, device=batch.device
        )
        logs = {"vq_loss": out.loss.detach(), "kept_tokens": lengths.float().mean(), **out.stats}
        return cells, self._predict_cells(out.latents, lengths), logs, out.loss

    def autoencode(self, batch: torch.Tensor) -> AutoencodeOut:
        _, predicted, logs, aux = self._forward_cells(batch)
        return AutoencodeOut(self._render(predicted), aux, logs)

    def last_layer(self) -> torch.Tensor:
        """The last trained layer (the conv decoder's output, or ``grid_out`` when the decoder is frozen)."""
        return self.grid_out.weight if self.cfg.freeze_autoencoder else self.decoder.net[-1].weight

    def loss(self, batch: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Pixel loss, or (``latent_loss``) MSE in the grid FSQ's code space plus the share of cells whose grid
        code the kept prefix reproduces (``code_match``)."""
        if not self.cfg.latent_loss:
            return autoencoder_loss(self.autoencode(batch), batch, self.cfg.l1_weight)
        cells, predicted, logs, aux = self._forward_cells(batch)
        with torch.no_grad():
            target = self._code_space(cells)
        estimate = self._code_space(predicted)
        code_mse = F.mse_loss(estimate, target)
        logs["code_mse"] = code_mse.detach()
        with torch.no_grad():
            logs["code_match"] = (self.quantizer(predicted).ids == self.quantizer(cells).ids).float().mean()
        return code_mse + aux, logs


register_preset(
    "flex-f16-s-64", LatentFlexTokenizer,
    LatentFlexConfig(quantizer="fsq", quantizer_options={"levels": [8, 5, 5, 5]}),
    "FlexTok-style 1D tokens at 128 px over fsq-f16-s's frozen 8x8 latent grid: any prefix of 1..64 FSQ tokens "
    "(10 bits each) decodes (pretrained).",
)  # fmt: skip
