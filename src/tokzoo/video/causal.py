"""A causal 3-D convolutional video tokenizer around any tokzoo bottleneck (FSQ by default).

"Language Model Beats Diffusion — Tokenizer is Key to Visual Generation" (MAGVIT-v2, Yu et al., 2023) and the
Cosmos Tokenizer ("Cosmos World Foundation Model Platform for Physical AI", NVIDIA, 2024): causal 3-D convolutions
so that the first frame is coded alone and an image is exactly a one-frame video; ``1 + f_t·k`` frames of
H x W become a (1 + k, H/f, W/f) latent grid, laid out as ``grid3d`` tokens in (t, h, w) raster order, so the
tokens of the first ``1 + j`` latent frames depend only on the first ``1 + f_t·j`` frames.

The layer layout is that of the 2-D grid tokenizers (VQGAN's encoder/decoder), so a trained image tokenizer of
the same widths initialises it by kernel inflation: ``inflate_from="pretrained:fsq-f8-s"`` (or a checkpoint
folder) puts each 2-D kernel on the current-frame temporal tap (:func:`tokzoo.nn.causal3d.inflate_state_dict`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from tokzoo.core.api import load
from tokzoo.core.autoencode import AutoencodeOut
from tokzoo.core.errors import ConfigError
from tokzoo.core.presets import register_preset
from tokzoo.nn.causal3d import TIME_MODES, CausalDecoder3d, CausalEncoder3d, inflate_state_dict
from tokzoo.nn.losses import autoencoder_loss
from tokzoo.quant import Bottleneck, QuantizerConfig
from tokzoo.video.checks import as_clip_batch, check_clip_batch
from tokzoo.video.codec import GridVideoTokenizer

FSQ_1000 = {"levels": [8, 5, 5, 5]}


@dataclass
class CausalVideoConfig(QuantizerConfig):
    """Hyper-parameters of :class:`CausalVideoTokenizer`: the bottleneck fields of
    :class:`~tokzoo.quant.QuantizerConfig` (FSQ with 1000 codes by default), the conv sizes (those of the 2-D
    grid tokenizers), the temporal compression, the loss, and optional image weights to inflate at build."""

    quantizer: str = "fsq"
    quantizer_options: dict[str, Any] = field(default_factory=lambda: dict(FSQ_1000))
    ch: int = 32
    ch_mult: tuple[int, ...] = (1, 2, 2, 4)
    num_res_blocks: int = 1
    z_channels: int = 64
    temporal_factor: int = 4  # 1, 2, 4, ...: frames per latent frame after the first
    temporal_upsample: str = "nearest"  # decoder: "nearest" holds each latent frame, "linear" interpolates
    l1_weight: float = 0.5
    in_channels: int = 3
    value_dtype: str = "float16"
    inflate_from: str = ""  # image weights to inflate at build: "pretrained:NAME" or a checkpoint folder

    def __post_init__(self) -> None:
        self.ch_mult = tuple(self.ch_mult)
        self.check_quantizer("causal video tokenizer")
        downs = len(self.ch_mult) - 1
        f = self.temporal_factor
        if isinstance(f, bool) or not isinstance(f, int) or f < 1 or f & (f - 1) or f > 2**downs:
            raise ConfigError(
                f"causal video tokenizer: temporal_factor must be a power of two from 1 to 2**{downs} "
                f"(one per spatial downsampling), got {f!r}"
            )
        if self.temporal_upsample not in TIME_MODES:
            raise ConfigError(
                f"causal video tokenizer: temporal_upsample must be one of {', '.join(TIME_MODES)}, "
                f"got {self.temporal_upsample!r}"
            )


class CausalVideoTokenizer(GridVideoTokenizer):
    """Clips (B, 3, 1 + f_t·k, H, W) in [0, 1] (or images (B, 3, H, W), one-frame clips) → ``grid3d`` tokens of
    shape (1 + k, H/f, W/f); ``decode`` gives clips (B, 3, 1 + f_t·k, H, W)."""

    def __init__(self, cfg: CausalVideoConfig) -> None:
        super().__init__(cfg)
        c = cfg
        downs = c.temporal_factor.bit_length() - 1
        self.encoder = CausalEncoder3d(c.in_channels, c.ch, c.ch_mult, c.num_res_blocks, c.z_channels, downs)
        self.quantizer = c.build_quantizer(c.z_channels)
        self.bottleneck = Bottleneck(self.quantizer, value_dtype=c.value_dtype)
        self.decoder = CausalDecoder3d(
            c.in_channels, c.ch, c.ch_mult, c.num_res_blocks, c.z_channels, downs, c.temporal_upsample
        )
        if c.inflate_from:  # initial weights only: the saved config does not ask for them again
            self.inflate(c.inflate_from)
            c.inflate_from = ""

    def inflate(self, source: str) -> None:
        """Load the weights of the 2-D image tokenizer at ``source`` (``pretrained:NAME`` or a checkpoint
        folder), inflated; ConfigError when its architecture differs from this model's."""
        image = load(source)
        try:
            self.load_state_dict(inflate_state_dict(image.state_dict(), self.state_dict()))
        except ValueError as e:
            raise ConfigError(f"inflate_from={source}: not the 2-D counterpart of this model: {e}") from None

    @property
    def vocab_size(self) -> int | None:
        return self.bottleneck.vocab_size

    @property
    def downsample_factor(self) -> int:
        return 2 ** (len(self.cfg.ch_mult) - 1)

    @property
    def time_factor(self) -> int:
        return self.cfg.temporal_factor

    @property
    def input_size(self) -> int:
        return 2 * self.downsample_factor

    def _latents(self, x: torch.Tensor) -> tuple[torch.Tensor, tuple[int, int, int]]:
        """Encoder output as a (B, t*h*w, C) sequence in (t, h, w) raster order, and its grid shape."""
        x = as_clip_batch(x)
        check_clip_batch(
            x, channels=self.cfg.in_channels, factor=self.downsample_factor, time_factor=self.time_factor
        )
        z = self.encoder(x * 2 - 1)
        b, c, t, h, w = z.shape
        return z.permute(0, 2, 3, 4, 1).reshape(b, t * h * w, c), (t, h, w)

    def _decode_latents(self, zq: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
        t, h, w = shape
        return (self.decoder(zq.reshape(zq.shape[0], t, h, w, -1).permute(0, 4, 1, 2, 3)) + 1) / 2

    def autoencode(self, batch: torch.Tensor) -> AutoencodeOut:
        z, shape = self._latents(batch)
        out = self.bottleneck(z, shape)
        return AutoencodeOut(self._decode_latents(out.latents, shape), out.loss, dict(out.stats))

    def last_layer(self) -> torch.Tensor:
        return self.decoder.net[-1].weight

    def loss(self, batch: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """``MSE + l1_weight·L1 + bottleneck loss``; logs ``rec_mse``, ``rec_l1``, ``psnr``, ``vq_loss`` and the
        bottleneck's codebook stats."""
        return autoencoder_loss(self.autoencode(batch), as_clip_batch(batch), self.cfg.l1_weight)


register_preset(
    "video-causal-f4x8-s", CausalVideoTokenizer, CausalVideoConfig(),
    "Causal 3-D conv video tokenizer (MAGVIT-v2 / Cosmos style), 4x temporal and 8x spatial, FSQ 1000 codes; "
    "the widths of fsq-f8-s, so inflate_from=pretrained:fsq-f8-s initialises it.",
)  # fmt: skip
register_preset(
    "video-causal-f4x8-t", CausalVideoTokenizer, CausalVideoConfig(ch=8, z_channels=16),
    "Tiny causal 3-D conv video tokenizer, 4x temporal and 8x spatial, FSQ 1000 codes (tests, smoke runs).",
)  # fmt: skip
