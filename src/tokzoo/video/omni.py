"""A joint image-video transformer tokenizer in the style of OmniTokenizer.

"OmniTokenizer: A Joint Image-Video Tokenizer for Visual Generation" (Wang et al., 2024): the first frame is
embedded alone in p x p patches and every later group of ``t_patch`` frames in t_patch x p x p tubelets, so an
image is a one-frame clip and both share one latent space; the transformer decouples space and time, with
window attention inside each latent frame (spatial layers) and causal attention along time at each position
(temporal layers); the decoder mirrors the encoder. Training is progressive: images first, then images and
clips jointly (the trainer's ``image_data`` / ``image_steps`` / ``image_every`` options, see
``docs/video.md``).

Tokens are a ``grid3d`` of shape (1 + k, H/p, W/p) for 1 + t_patch·k frames, raster order (t, h, w); through
causal temporal attention the tokens of the first 1 + j latent frames depend only on the first 1 + t_patch·j
frames, and an image gives exactly the tokens of a one-frame clip. Any ``tokzoo.quant`` bottleneck (FSQ with
1000 codes by default; OmniTokenizer uses VQ, then a KL fine-tuning stage, not reproduced here).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from tokzoo.core.autoencode import AutoencodeOut
from tokzoo.core.errors import ConfigError, DataError
from tokzoo.core.presets import register_preset
from tokzoo.nn.losses import autoencoder_loss
from tokzoo.nn.transformer import Block, sincos_2d
from tokzoo.quant import Bottleneck, QuantizerConfig
from tokzoo.video.checks import as_clip_batch, check_clip_batch
from tokzoo.video.codec import GridVideoTokenizer


@dataclass
class OmniConfig(QuantizerConfig):
    """Hyper-parameters of :class:`OmniTokenizer`: patching, the decoupled transformer, the bottleneck."""

    quantizer: str = "fsq"
    quantizer_options: dict[str, Any] = field(default_factory=lambda: {"levels": [8, 5, 5, 5]})
    patch_size: int = 4
    t_patch: int = 4
    width: int = 64
    heads: int = 4
    spatial_depth: int = 2  # window-attention blocks, in the encoder and in the decoder
    temporal_depth: int = 2  # causal temporal blocks, in the encoder and in the decoder
    window: int = 4  # spatial attention windows of window x window tokens (the whole frame when smaller)
    max_latent_frames: int = 16
    latent_dim: int = 4
    l1_weight: float = 0.5
    in_channels: int = 3
    value_dtype: str = "float16"

    def __post_init__(self) -> None:
        self.check_quantizer("OmniTokenizer-style tokenizer")
        for name in ("patch_size", "t_patch", "width", "heads", "window", "max_latent_frames", "latent_dim"):
            if getattr(self, name) < 1:
                raise ConfigError(
                    f"OmniTokenizer-style tokenizer: {name} must be >= 1, got {getattr(self, name)}"
                )
        if self.width % 4 or self.width % self.heads:
            raise ConfigError(f"width {self.width} must be divisible by 4 and by heads {self.heads}")


def _windows(x: torch.Tensor, h: int, w: int, win: int) -> torch.Tensor:
    """(N, h·w, D) raster tokens → (N·(h/win)·(w/win), win², D) windows."""
    n, _, d = x.shape
    x = x.reshape(n, h // win, win, w // win, win, d).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, win * win, d)


def _unwindows(x: torch.Tensor, n: int, h: int, w: int, win: int) -> torch.Tensor:
    d = x.shape[-1]
    x = x.reshape(n, h // win, w // win, win, win, d).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(n, h * w, d)


class SpaceTimeStack(nn.Module):
    """Spatial window-attention blocks and causal temporal blocks on (B, T, h·w, D) latent-frame tokens;
    ``order`` is ``"st"`` (space then time: the encoder) or ``"ts"`` (the decoder)."""

    def __init__(self, cfg: OmniConfig, order: str) -> None:
        super().__init__()
        self.window, self.order = cfg.window, order
        self.spatial = nn.ModuleList(Block(cfg.width, cfg.heads) for _ in range(cfg.spatial_depth))
        self.temporal = nn.ModuleList(Block(cfg.width, cfg.heads) for _ in range(cfg.temporal_depth))
        self.norm = nn.LayerNorm(cfg.width)

    def _space(self, x: torch.Tensor, h: int, w: int) -> torch.Tensor:
        b, t, n, d = x.shape
        win = self.window if h % self.window == 0 and w % self.window == 0 else 0
        flat = x.reshape(b * t, n, d)
        seq = _windows(flat, h, w, win) if win else flat
        for block in self.spatial:
            seq = block(seq)
        flat = _unwindows(seq, b * t, h, w, win) if win else seq
        return flat.reshape(b, t, n, d)

    def _time(self, x: torch.Tensor) -> torch.Tensor:
        b, t, n, d = x.shape
        seq = x.permute(0, 2, 1, 3).reshape(b * n, t, d)
        causal = torch.ones(t, t, dtype=torch.bool, device=x.device).tril()
        for block in self.temporal:
            seq = block(seq, causal)
        return seq.reshape(b, n, t, d).permute(0, 2, 1, 3)

    def forward(self, x: torch.Tensor, h: int, w: int) -> torch.Tensor:
        x = self._time(self._space(x, h, w)) if self.order == "st" else self._space(self._time(x), h, w)
        return self.norm(x)


class OmniTokenizer(GridVideoTokenizer):
    """Clips (B, 3, 1 + t_patch·k, H, W) in [0, 1] (or images (B, 3, H, W)) → ``grid3d`` tokens of shape
    (1 + k, H/p, W/p); ``decode`` gives clips (B, 3, 1 + t_patch·k, H, W)."""

    def __init__(self, cfg: OmniConfig) -> None:
        super().__init__(cfg)
        c = cfg
        frame_dim = c.in_channels * c.patch_size**2
        self.embed_first = nn.Linear(frame_dim, c.width)  # the first frame (an image) alone
        self.embed_tube = nn.Linear(frame_dim * c.t_patch, c.width)  # later frames, t_patch at a time
        self.time_pos = nn.Parameter(torch.randn(c.max_latent_frames, c.width) * 0.02)
        self.encoder = SpaceTimeStack(c, "st")
        self.to_latent = nn.Linear(c.width, c.latent_dim)
        self.quantizer = c.build_quantizer(c.latent_dim)
        self.bottleneck = Bottleneck(self.quantizer, value_dtype=c.value_dtype)
        self.from_latent = nn.Linear(c.latent_dim, c.width)
        self.decoder = SpaceTimeStack(c, "ts")
        self.out_first = nn.Linear(c.width, frame_dim)
        self.out_tube = nn.Linear(c.width, frame_dim * c.t_patch)

    @property
    def vocab_size(self) -> int | None:
        return self.bottleneck.vocab_size

    @property
    def time_factor(self) -> int:
        return self.cfg.t_patch

    @property
    def input_size(self) -> int:
        return self.cfg.patch_size * max(self.cfg.window, 1)

    # ------------------------------------------------------------------------------------------------ layout
    def _positions(self, t: int, h: int, w: int, device: torch.device) -> torch.Tensor:
        """(t, h·w, D) fixed sine-cosine space embedding plus the learned one of each latent frame."""
        if t > self.cfg.max_latent_frames:
            raise DataError(
                f"a clip of {1 + (t - 1) * self.cfg.t_patch} frames has {t} latent frames; this tokenizer codes "
                f"at most {self.cfg.max_latent_frames} (1 + {self.cfg.t_patch}·{self.cfg.max_latent_frames - 1} "
                "frames): cut it into shorter clips"
            )
        space = sincos_2d(h, w, self.cfg.width).to(device)
        return space[None] + self.time_pos[:t, None]

    def _patchify(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, 1 + t_patch·k, H, W) → (B, 1 + k, h·w, width) embedded tokens."""
        b, c, t, hh, ww = x.shape
        p, tp = self.cfg.patch_size, self.cfg.t_patch
        h, w = hh // p, ww // p
        first = x[:, :, 0].reshape(b, c, h, p, w, p).permute(0, 2, 4, 1, 3, 5).reshape(b, 1, h * w, -1)
        out = [self.embed_first(first)]
        k = (t - 1) // tp
        if k:
            rest = x[:, :, 1:].reshape(b, c, k, tp, h, p, w, p).permute(0, 2, 4, 6, 1, 3, 5, 7)
            out.append(self.embed_tube(rest.reshape(b, k, h * w, -1)))
        return torch.cat(out, dim=1)

    def _unpatchify(self, y: torch.Tensor, h: int, w: int) -> torch.Tensor:
        """(B, 1 + k, h·w, width) → clips (B, C, 1 + t_patch·k, H, W) in [-1, 1] units."""
        b, t = y.shape[:2]
        c, p, tp = self.cfg.in_channels, self.cfg.patch_size, self.cfg.t_patch
        first = self.out_first(y[:, 0]).reshape(b, h, w, c, p, p).permute(0, 3, 1, 4, 2, 5)
        frames = [first.reshape(b, c, 1, h * p, w * p)]
        if t > 1:
            rest = self.out_tube(y[:, 1:]).reshape(b, t - 1, h, w, c, tp, p, p)
            rest = rest.permute(0, 4, 1, 5, 2, 6, 3, 7).reshape(b, c, (t - 1) * tp, h * p, w * p)
            frames.append(rest)
        return torch.cat(frames, dim=2)

    def _latents(self, x: torch.Tensor) -> tuple[torch.Tensor, tuple[int, int, int]]:
        """Encoder output as (B, t·h·w, latent_dim) in (t, h, w) raster order, and its grid shape."""
        x = as_clip_batch(x)
        check_clip_batch(
            x, channels=self.cfg.in_channels, factor=self.cfg.patch_size, time_factor=self.time_factor
        )
        p = self.cfg.patch_size
        h, w = x.shape[-2] // p, x.shape[-1] // p
        tokens = self._patchify(x * 2 - 1)
        t = tokens.shape[1]
        tokens = self.encoder(tokens + self._positions(t, h, w, x.device), h, w)
        return self.to_latent(tokens).reshape(x.shape[0], t * h * w, -1), (t, h, w)

    def _decode_latents(self, zq: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
        t, h, w = shape
        y = self.from_latent(zq).reshape(zq.shape[0], t, h * w, -1) + self._positions(t, h, w, zq.device)
        return (self._unpatchify(self.decoder(y, h, w), h, w) + 1) / 2

    # ------------------------------------------------------------------------------------------------ training
    def autoencode(self, batch: torch.Tensor) -> AutoencodeOut:
        z, shape = self._latents(batch)
        out = self.bottleneck(z, shape)
        return AutoencodeOut(self._decode_latents(out.latents, shape), out.loss, dict(out.stats))

    def last_layer(self) -> torch.Tensor:
        return self.out_tube.weight

    def loss(self, batch: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """``MSE + l1_weight·L1 + bottleneck loss`` on clips or images (one-frame clips) alike."""
        return autoencoder_loss(self.autoencode(batch), as_clip_batch(batch), self.cfg.l1_weight)


register_preset(
    "video-omni-t", OmniTokenizer, OmniConfig(),
    "Tiny OmniTokenizer-style joint image-video transformer: 4x temporal and 4x spatial patches, spatial window "
    "and causal temporal attention, FSQ 1000 codes; images are one-frame clips (32 px, 9-frame clips on CPU).",
)  # fmt: skip
