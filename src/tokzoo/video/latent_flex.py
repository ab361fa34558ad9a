"""Flexible-length 1-D tokens for a clip over a frozen causal 3-D tokenizer's latent grid, as VideoFlexTok does it.

"VideoFlexTok: Flexible-Length Coarse-to-Fine Video Tokenization" (2025) does not tokenize pixels: like FlexTok
("FlexTok: Resampling Images into 1D Token Sequences of Flexible Length", Bachmann et al., 2025) it resamples a
frozen video autoencoder's latent grid into K causal register tokens with nested dropout, so any prefix decodes
(to latents, then through the frozen decoder to frames), coarse content first. Here the frozen autoencoder is a
causal 3-D tokenizer (:class:`~tokzoo.video.causal.CausalVideoTokenizer`): its ``encoder``, FSQ ``quantizer`` and
``decoder`` keep their module names, so ``init_partial`` from a trained one copies them; the resampler, the token
bottleneck and the query decoder over the (t, h, w) cells are :class:`~tokzoo.nn.latent_resampler.
LatentResampler`, shared with the image model (:mod:`tokzoo.image.latent_flex`). The loss is a regression onto
the frozen encoder's latents in the grid FSQ's code space (no 3-D decoder runs in a training step). VideoFlexTok's
rectified-flow decoder is replaced by this deterministic one.

This replaces the pixel-space :mod:`tokzoo.video.flex` model where that one collapses to the clip's mean colour at
CPU scale (docs/video.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from tokzoo.core.errors import ConfigError
from tokzoo.core.presets import register_preset
from tokzoo.core.tokens import Tokens
from tokzoo.nn.causal3d import CausalDecoder3d, CausalEncoder3d
from tokzoo.nn.latent_resampler import LatentResampler
from tokzoo.nn.token_drop import check_schedule
from tokzoo.nn.transformer import sincos_2d
from tokzoo.quant import QuantizerConfig
from tokzoo.quant.fsq import FSQ
from tokzoo.video.codec import FixedClipTokenizer


@dataclass
class VideoLatentFlexConfig(QuantizerConfig):
    """Hyper-parameters of :class:`VideoLatentFlexTokenizer`: the clip size, the frozen causal 3-D tokenizer
    (as ``CausalVideoConfig``, with ``grid_levels`` for its FSQ; always frozen), the resampler ViT, the register count, their
    bottleneck (the ``QuantizerConfig`` fields) and the kept-length schedule."""

    frames: int = 9
    image_size: int = 64
    ch: int = 32
    ch_mult: tuple[int, ...] = (1, 2, 2, 4)
    num_res_blocks: int = 1
    z_channels: int = 64
    temporal_factor: int = 4
    grid_levels: tuple[int, ...] = (8, 5, 5, 5)
    width: int = 128
    encoder_depth: int = 3
    decoder_depth: int = 3
    heads: int = 4
    mlp_ratio: float = 4.0
    num_tokens: int = 32
    drop_schedule: str = "pow2"  # "pow2" (nested dropout) | "uniform" | "mixed" | "none" (fixed)
    min_tokens: int = 1
    in_channels: int = 3

    def __post_init__(self) -> None:
        self.ch_mult = tuple(self.ch_mult)
        self.grid_levels = tuple(self.grid_levels)
        f, downs = self.temporal_factor, len(self.ch_mult) - 1
        if isinstance(f, bool) or not isinstance(f, int) or f < 1 or f & (f - 1) or f > 2**downs:
            raise ConfigError(f"video latent flex: temporal_factor must be a power of two from 1 to 2**{downs}, "
                              f"got {f!r}")  # fmt: skip
        if self.frames < 1 or (self.frames - 1) % f:
            raise ConfigError(f"video latent flex: frames must be 1 + {f}·k, got {self.frames}")
        if self.image_size % 2**downs:
            raise ConfigError(f"video latent flex: image_size {self.image_size} is not a multiple of the conv "
                              f"downsampling {2**downs}")  # fmt: skip
        if self.width % 4 or self.width % self.heads:
            raise ConfigError(f"video latent flex: width {self.width} must be divisible by 4 and by heads "
                              f"{self.heads}")  # fmt: skip
        check_schedule("video latent flex", self.drop_schedule, self.num_tokens, self.min_tokens)
        self.check_quantizer(
            "video latent flex",
            ("single", "continuous"),
            "a 1-D prefix holds one id or value vector per token",
        )

    @property
    def latent_shape(self) -> tuple[int, int, int]:
        """(t, h, w) of the frozen tokenizer's latent grid for one clip."""
        side = self.image_size // 2 ** (len(self.ch_mult) - 1)
        return 1 + (self.frames - 1) // self.temporal_factor, side, side

    @property
    def flexible(self) -> bool:
        return self.drop_schedule != "none"


def clip_positions(t: int, h: int, w: int, width: int) -> torch.Tensor:
    """(t·h·w, width) initial cell positions in (t, h, w) raster order: a 2-D sin-cos table over (h, w) plus one
    over time, so cells differ in space and in time from the first step."""
    space = sincos_2d(h, w, width).repeat(t, 1)
    time = sincos_2d(t, 1, width).repeat_interleave(h * w, dim=0)
    return space + time


class VideoLatentFlexTokenizer(LatentResampler, FixedClipTokenizer):
    """Clips (B, 3, frames, S, S) in [0, 1] → ``seq1d`` tokens: any prefix of 1..K register ids decodes."""

    def __init__(self, cfg: VideoLatentFlexConfig) -> None:
        super().__init__(cfg)
        c = cfg
        downs = c.temporal_factor.bit_length() - 1
        self.encoder = CausalEncoder3d(c.in_channels, c.ch, c.ch_mult, c.num_res_blocks, c.z_channels, downs)
        self.quantizer = FSQ(c.z_channels, c.grid_levels)
        self.decoder = CausalDecoder3d(c.in_channels, c.ch, c.ch_mult, c.num_res_blocks, c.z_channels, downs)
        for part in (self.encoder, self.quantizer, self.decoder):
            part.requires_grad_(False)
        self._build_resampler(clip_positions(*c.latent_shape, c.width))

    @property
    def time_factor(self) -> int:
        return self.cfg.temporal_factor

    def _cells(self, x: torch.Tensor) -> torch.Tensor:
        """(B, t·h·w, z_channels) frozen encoder latents of clips ``x`` in (t, h, w) raster order."""
        x = self._check_clip(x)
        with torch.no_grad():
            z = self.encoder(x * 2 - 1)
        return z.flatten(2).transpose(1, 2)

    def _render(self, cells: torch.Tensor) -> torch.Tensor:
        """Latent cells (B, t·h·w, z_channels) → clips (unclamped), through the grid's FSQ and 3-D decoder."""
        t, h, w = self.cfg.latent_shape
        snapped = self.quantizer(cells).latents
        return (self.decoder(snapped.transpose(1, 2).reshape(len(cells), -1, t, h, w)) + 1) / 2

    def encode(self, x: torch.Tensor, *, num_tokens: int | None = None) -> Tokens:
        return self._encode_cells(self._cells(x), num_tokens, {"tokenizer": self.registry_name})

    def last_layer(self) -> torch.Tensor:
        return self.grid_out.weight

    def loss(self, batch: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """MSE in the frozen grid FSQ's code space between the cells predicted from a random kept prefix and the
        encoder's (nested dropout), plus the share of cells whose grid code the prefix reproduces."""
        cells = self._cells(batch)
        return self._latent_loss(cells, *self._resample(cells))


register_preset(
    "video-flex-f4x8-s-32", VideoLatentFlexTokenizer,
    VideoLatentFlexConfig(quantizer="fsq", quantizer_options={"levels": [8, 5, 5, 5]}),
    "VideoFlexTok-style 1-D tokens for 9-frame 64 px clips over video-causal-f4x8-s's frozen 3x8x8 latent grid "
    "(init_partial from a trained one): any prefix of 1..32 FSQ tokens (10 bits each) decodes.",
)  # fmt: skip
