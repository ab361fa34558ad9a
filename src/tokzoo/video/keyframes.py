"""Video through an image tokenizer: every ``key_every``-th frame coded as an image, the frames between linearly
interpolated from the decoded key frames.

The classical baseline every video tokenizer must beat at equal bits (issue 14's "per-frame image tokenizer at
equal bits"; "Language Model Beats Diffusion — Tokenizer is Key to Visual Generation", 2023, compares MAGVIT-v2
with per-frame image tokenizers the same way). With ``key_every = 4`` a clip of 1 + 4k frames gets exactly the
bits of a 4×-temporal causal video tokenizer over the same image grid; ``key_every = 1`` codes every frame.
The image tokenizer is any 2-D grid tokenizer (``GridVQTokenizer``: fsq-f8-s, fsq-f16-s, ...), from its shipped
weights by default; its tokens become one (t, h, w) ``grid3d`` grid, so ``.tok`` files, ``tokzoo encode clip.mp4``,
``tokzoo decode`` and ``tokzoo eval`` work as for the other video tokenizers. Training fine-tunes the image
tokenizer on video key frames with the loss taken on every frame (the interpolated ones included).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

import torch

from tokzoo.core.api import create
from tokzoo.core.autoencode import AutoencodeOut
from tokzoo.core.errors import ConfigError
from tokzoo.core.presets import register_preset
from tokzoo.core.tokens import Tokens
from tokzoo.image.grid_vq import GridVQTokenizer
from tokzoo.nn.losses import autoencoder_loss
from tokzoo.quant import Bottleneck
from tokzoo.video.checks import as_clip_batch, check_clip_batch, grid3d_shape
from tokzoo.video.codec import GridVideoTokenizer


@dataclass
class KeyframeConfig:
    """``image_model``: the registered 2-D grid tokenizer that codes the key frames (``image_options``: its
    config overrides; ``image_pretrained``: start from its shipped weights); ``key_every``: frames per key frame after
    the first (1 = every frame); ``l1_weight``: the L1 share of the fine-tuning loss."""

    image_model: str = "fsq-f8-s"
    image_options: dict[str, Any] = field(default_factory=dict)
    image_pretrained: bool = True
    key_every: int = 4
    l1_weight: float = 0.5
    in_channels: int = 3

    def __post_init__(self) -> None:
        k = self.key_every
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 64:
            raise ConfigError(
                f"key-frame video tokenizer: key_every must be an integer in [1, 64], got {k!r}"
            )


class KeyframeVideoTokenizer(GridVideoTokenizer):
    """Clips (B, 3, 1 + key_every·k, H, W) → ``grid3d`` tokens (1 + k, h, w) of the image tokenizer's grid;
    ``decode`` gives the decoded key frames with the frames between linearly interpolated."""

    def __init__(self, cfg: KeyframeConfig) -> None:
        super().__init__(cfg)
        # Shipped weights are read into CPU memory even inside a ``torch.device("meta")`` build (counting
        # parameters), where copying them into meta tensors would fail.
        with torch.device("cpu") if cfg.image_pretrained else contextlib.nullcontext():
            image = create(cfg.image_model, pretrained=cfg.image_pretrained, **cfg.image_options)
        if not isinstance(image, GridVQTokenizer):
            raise ConfigError(
                f"key-frame video tokenizer: image_model {cfg.image_model!r} is a {type(image).__name__}, not a "
                "2-D grid tokenizer (GridVQTokenizer: fsq-f8-s, fsq-f16-s, vq-f8-s, ...)"
            )
        if image.cfg.in_channels != cfg.in_channels:
            raise ConfigError(
                f"key-frame video tokenizer: {cfg.image_model} takes {image.cfg.in_channels} channels, "
                f"in_channels is {cfg.in_channels}"
            )
        self.image = image

    @property
    def bottleneck(self) -> Bottleneck:  # type: ignore[override]
        """The image tokenizer's bottleneck (not a second copy of its weights in the checkpoint)."""
        return self.image.bottleneck

    @property
    def starts_trained(self) -> bool:
        return self.cfg.image_pretrained

    @property
    def vocab_size(self) -> int | None:
        return self.bottleneck.vocab_size

    @property
    def downsample_factor(self) -> int:
        return self.image.downsample_factor

    @property
    def time_factor(self) -> int:
        return self.cfg.key_every

    @property
    def input_size(self) -> int:
        return self.image.input_size

    def _latents(self, x: torch.Tensor) -> tuple[torch.Tensor, tuple[int, int, int]]:
        """The image encoder's latents of frames 0, k, 2k, ... as one (B, t·h·w, C) sequence, and (t, h, w)."""
        x = as_clip_batch(x)
        check_clip_batch(
            x, channels=self.cfg.in_channels, factor=self.downsample_factor, time_factor=self.time_factor
        )
        keys = x[:, :, :: self.time_factor]  # (B, C, t, H, W)
        b, c, t = keys.shape[:3]
        z, (h, w) = self.image._latents(keys.transpose(1, 2).reshape(b * t, c, *keys.shape[-2:]))
        return z.reshape(b, t * h * w, -1), (t, h, w)

    def _decode_keys(self, latents: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
        """The decoded key frames (B, C, t, H, W) of (B, t·h·w, C) latents."""
        t, h, w = shape
        b = latents.shape[0]
        frames = self.image._decode_latents(latents.reshape(b * t, h * w, -1), (h, w))
        return frames.reshape(b, t, *frames.shape[1:]).transpose(1, 2)

    def _decode_latents(self, latents: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
        return interpolate_keys(self._decode_keys(latents, shape), self.time_factor)

    def decode(self, tokens: Tokens) -> torch.Tensor:
        """The key frames as the image tokenizer decodes them (clamped to [0, 1]), interpolated between."""
        shape = grid3d_shape(tokens, self.bottleneck)
        keys = self._decode_keys(self.bottleneck.decode(tokens), shape).clamp(0, 1)
        return interpolate_keys(keys, self.time_factor)

    def autoencode(self, batch: torch.Tensor) -> AutoencodeOut:
        z, shape = self._latents(batch)
        out = self.bottleneck(z, shape)
        return AutoencodeOut(self._decode_latents(out.latents, shape), out.loss, dict(out.stats))

    def last_layer(self) -> torch.Tensor:
        return self.image.last_layer()

    def loss(self, batch: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """``MSE + l1_weight·L1 + bottleneck loss`` over every frame, key frames and interpolated ones."""
        return autoencoder_loss(self.autoencode(batch), as_clip_batch(batch), self.cfg.l1_weight)


def interpolate_keys(keys: torch.Tensor, step: int) -> torch.Tensor:
    """Key frames (B, C, t, H, W) at frames 0, step, ..., step·(t-1) → the clip of 1 + step·(t-1) frames, frame
    ``step·i + j`` = ``(1 - j/step)·key_i + (j/step)·key_{i+1}``."""
    if step == 1 or keys.shape[2] == 1:
        return keys
    w = torch.arange(step, dtype=keys.dtype, device=keys.device) / step  # (step,)
    a, b = keys[:, :, :-1, None], keys[:, :, 1:, None]  # (B, C, t-1, 1, H, W)
    w = w.view(1, 1, 1, step, 1, 1)
    between = ((1 - w) * a + w * b).flatten(2, 3)  # (B, C, (t-1)·step, H, W)
    return torch.cat([between, keys[:, :, -1:]], dim=2)


register_preset(
    "video-keyframes-f4x8-s", KeyframeVideoTokenizer, KeyframeConfig(),
    "Key frames 0, 4, 8, ... through the pretrained image tokenizer fsq-f8-s, frames between interpolated: the "
    "bits of video-causal-f4x8-s at the same grid (the equal-bits image baseline).",
)  # fmt: skip
register_preset(
    "video-frames-f16-s", KeyframeVideoTokenizer, KeyframeConfig(image_model="fsq-f16-s", key_every=1),
    "Every frame through the pretrained image tokenizer fsq-f16-s (64 tokens per 128 px frame).",
)  # fmt: skip
