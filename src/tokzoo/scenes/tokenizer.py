"""``SceneTokenizer``: dynamic occupancy scenes as intra-scene and inter-scene tokens, or as per-frame tokens.

After "I²-World: Intra-Inter Tokenization for Efficient Dynamic 4D Scene Forecasting" (2025). A frame
(X, Y, Z class ids) is seen from above as OccWorld does ("OccWorld: Learning a 3D Occupancy World Model for
Autonomous Driving", 2023): the one-hot classes of each height become channels of a bird's-eye-view map, which
a conv encoder (:class:`tokzoo.nn.conv.ConvEncoder`) brings to an S×S latent grid.

- **Intra-scene tokens** code one frame alone: VAR's multi-scale residual quantization (``tokzoo.quant``'s
  ``msrq``, "Visual Autoregressive Modeling", Tian et al., 2024) over that grid, coarse to fine.
- **Inter-scene tokens** code what changed: their encoder sees the previous frame's *reconstruction* and the
  current frame, their decoder sees the same reconstruction and the tokens (plus a learned copy of the previous
  frame's classes), so the tokens only carry the change. A second ``msrq`` quantizes them.

With ``inter=True`` (``scene-ii-msrq``) the first frame of a clip is a key frame (intra tokens) and every later
frame inter tokens; with ``inter=False`` (``scene-frame-msrq``) every frame is coded alone. Encoding runs closed
loop, as a video codec does: the reconstruction each inter frame is conditioned on is the one ``decode`` will
see, at the number of scales kept. Both quantizers are trained with quantizer dropout, so any prefix of the
scales decodes: ``levels=(k_key, k_rest)`` keeps ``k_key`` scales on key frames and ``k_rest`` on the others.

Tokens: layout ``scene``, shape ``(T, k_key, k_rest)``, ids of frame 0 then frame 1, ... (each frame's scales
coarse to fine, raster order), over one vocabulary of ``codebook_size``.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from tokzoo.core.errors import ConfigError, DataError
from tokzoo.core.presets import register_preset
from tokzoo.core.tokenizer import Tokenizer
from tokzoo.core.tokens import Tokens
from tokzoo.nn.conv import ConvDecoder, ConvEncoder, ResBlock
from tokzoo.quant.registry import build_quantizer
from tokzoo.scenes.data import read_scene, write_scene
from tokzoo.scenes.metrics import confusion, iou_scores

__all__ = ["LAYOUT", "SceneConfig", "SceneTokenizer"]

LAYOUT = "scene"


def _patchify(in_ch: int, ch: int) -> nn.Module:
    """2×2 patches of the bird's-eye view -> ``ch`` channels at half resolution."""
    return nn.Conv2d(in_ch, ch, 2, stride=2)


def _height_first(x: torch.Tensor) -> torch.Tensor:
    """(B, T, X, Y, Z) -> (B, T, Z, X, Y), the layout the model works in."""
    return x.permute(0, 1, 4, 2, 3).contiguous()


def _classes(logits: torch.Tensor) -> torch.Tensor:
    """(B, C, ...) logits -> (B, ...) most likely classes, no gradient (argmax over a last, contiguous axis:
    several times faster on CPU than over axis 1)."""
    return logits.detach().movedim(1, -1).contiguous().argmax(-1)


def _unpatchify(ch: int, out_ch: int) -> nn.Module:
    """``ch`` channels at half resolution -> ``out_ch`` per cell at full resolution (1×1 conv, pixel shuffle)."""
    return nn.Sequential(nn.Conv2d(ch, 4 * out_ch, 1), nn.PixelShuffle(2))


@dataclass
class SceneConfig:
    """Scenes of ``size``³ voxels with ``num_classes`` classes (0 = free); ``inter``: key frame + inter tokens
    (else every frame intra); conv widths ``ch`` × ``ch_mult`` with ``num_res_blocks``; ``latent_dim`` channels
    on the S×S grid (S = size / 2^len(ch_mult) = ``scales[-1]``: 2×2 patches, then one
    halving per level after the first); ``msrq`` ``scales``, ``codebook_size``
    and ``quantizer_dropout`` (both quantizers); ``occupied_weight``: cross-entropy weight of the voxels of
    classes other than free (objects are a few % of the voxels); ``train_frames``: frames of each training clip
    the loss sees (the first ones; 0: all); ``key_all_frames`` (``inter`` only): train the intra (key-frame)
    path on every training frame, as the per-frame model is, not only on the first; the inter chain still
    starts from the first frame's reconstruction."""

    size: int = 32
    num_classes: int = 4
    inter: bool = True
    ch: int = 32
    ch_mult: tuple[int, ...] = (1, 2)
    num_res_blocks: int = 1
    latent_dim: int = 16
    scales: tuple[int, ...] = (1, 2, 3, 4, 6, 8)
    codebook_size: int = 512
    quantizer_dropout: float = 0.5
    occupied_weight: float = 4.0
    train_frames: int = 4
    key_all_frames: bool = False

    def __post_init__(self) -> None:
        self.ch_mult, self.scales = tuple(self.ch_mult), tuple(self.scales)


class SceneTokenizer(Tokenizer):
    """Occupancy clips (B, T, X, Y, Z) of class ids <-> intra / inter (or per-frame) multi-scale tokens."""

    modality = "scenes"

    def __init__(self, cfg: SceneConfig) -> None:
        super().__init__(cfg)
        factor = 2 ** len(cfg.ch_mult)
        if not 4 <= cfg.size <= 128 or cfg.size % factor or cfg.size // factor != cfg.scales[-1]:
            raise ConfigError(
                f"scenes: size {cfg.size} must be in [4, 128] and size / {factor} must equal the last scale "
                f"{cfg.scales[-1]}"
            )
        if not 2 <= cfg.num_classes <= 16:
            raise ConfigError(f"scenes: num_classes must be in [2, 16], got {cfg.num_classes}")
        bev, out, d = (cfg.num_classes - 1) * cfg.size, cfg.num_classes * cfg.size, cfg.latent_dim
        conv = (cfg.ch, cfg.ch_mult, cfg.num_res_blocks, d)
        quant = {"scales": cfg.scales, "codebook_size": cfg.codebook_size,
                 "quantizer_dropout": cfg.quantizer_dropout}  # fmt: skip
        self.intra_encoder = nn.Sequential(_patchify(bev, cfg.ch), ConvEncoder(cfg.ch, *conv))
        self.intra_quantizer = build_quantizer("msrq", d, **quant)
        self.intra_decoder = nn.Sequential(ConvDecoder(cfg.ch, *conv), _unpatchify(cfg.ch, out))
        if cfg.inter:
            self.inter_encoder = nn.Sequential(_patchify(2 * bev, cfg.ch), ConvEncoder(cfg.ch, *conv))
            self.inter_quantizer = build_quantizer("msrq", d, **quant)
            self.inter_decoder = ConvDecoder(cfg.ch, *conv)
            self.prev_embed = _patchify(bev, cfg.ch)
            self.fuse = nn.Sequential(
                ResBlock(2 * cfg.ch, cfg.ch), ResBlock(cfg.ch, cfg.ch), nn.SiLU(), _unpatchify(cfg.ch, out)
            )
            self.copy_gain = nn.Parameter(torch.tensor(4.0))
        self._cumulative = [0, *accumulate(s * s for s in cfg.scales)]

    @property
    def vocab_size(self) -> int:
        return self.cfg.codebook_size

    def frame_tokens(self, k: int) -> int:
        """Tokens of one frame coded with the first ``k`` scales."""
        return self._cumulative[k]

    # -- pieces (frames inside are (B, Z, X, Y): height first, so channels and logits need no permute) ------
    def _bev(self, x: torch.Tensor) -> torch.Tensor:
        """(B, Z, X, Y) class ids -> (B, (C-1)·Z, X, Y) one-hot bird's-eye-view channels (free left out)."""
        b, _, sx, sy = x.shape
        onehot = F.one_hot(x, self.cfg.num_classes)[..., 1:]
        return onehot.permute(0, 4, 1, 2, 3).reshape(b, -1, sx, sy).float()

    def _logits(self, h: torch.Tensor) -> torch.Tensor:
        """(B, C·Z, X, Y) -> (B, C, Z, X, Y) class logits."""
        b, _, sx, sy = h.shape
        return h.reshape(b, self.cfg.num_classes, -1, sx, sy)

    def _grid(self, z: torch.Tensor) -> torch.Tensor:
        return z.permute(0, 2, 3, 1)  # (B, D, S, S) -> (B, S, S, D), msrq's input

    def _intra_latents(self, x: torch.Tensor) -> torch.Tensor:
        return self._grid(self.intra_encoder(self._bev(x)))

    def _intra_logits(self, latents: torch.Tensor) -> torch.Tensor:
        return self._logits(self.intra_decoder(latents.permute(0, 3, 1, 2)))

    def _inter_latents(self, prev: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self._grid(self.inter_encoder(torch.cat([self._bev(prev), self._bev(x)], 1)))

    def _inter_logits(self, latents: torch.Tensor, prev: torch.Tensor) -> torch.Tensor:
        h = self.inter_decoder(latents.permute(0, 3, 1, 2))
        logits = self._logits(self.fuse(torch.cat([h, self.prev_embed(self._bev(prev))], 1)))
        copy = F.one_hot(prev, self.cfg.num_classes).permute(0, 4, 1, 2, 3)
        return logits + self.copy_gain * copy

    def scenes(self, x: Any) -> torch.Tensor:
        """The batch ``x`` (a (B, T, X, Y, Z) tensor/array or a list of (T, X, Y, Z) scenes) as checked int64."""
        items = list(x) if isinstance(x, (list, tuple)) else None
        if items is not None:
            if not items:
                raise DataError("empty batch: nothing to encode")
            shapes = {tuple(np.shape(s)) for s in items}
            if len(shapes) != 1:
                raise DataError(f"scenes of one batch must have one shape, got {sorted(shapes)}")
            x = torch.stack([torch.as_tensor(np.asarray(s)) for s in items])
        x = torch.as_tensor(x)
        s, c = self.cfg.size, self.cfg.num_classes
        if x.ndim != 5 or tuple(x.shape[2:]) != (s, s, s) or x.shape[0] < 1 or x.shape[1] < 1:
            raise DataError(f"scenes must be (B, T, {s}, {s}, {s}) class ids, got shape {tuple(x.shape)}")
        if x.is_floating_point() or x.dtype == torch.bool:
            raise DataError(f"scenes must hold integer class ids, got {x.dtype}")
        if int(x.min()) < 0 or int(x.max()) >= c:
            raise DataError(f"scene class ids must be in [0, {c}), got {int(x.min())}..{int(x.max())}")
        return x.long()

    # -- Trainable ------------------------------------------------------------------------------------
    def loss(self, batch: Any) -> tuple[torch.Tensor, dict[str, float]]:
        """Cross-entropy of every frame's class logits + the quantizers' losses. In ``inter`` mode frame t is
        decoded from the previous frame's reconstruction (argmax, no gradient), as at test time."""
        x, c = _height_first(self.scenes(batch).to(self._device())), self.cfg.num_classes
        x = x[:, : self.cfg.train_frames or None]
        weight = torch.full((c,), self.cfg.occupied_weight, device=x.device)
        weight[0] = 1.0
        keys_only = self.cfg.inter and not self.cfg.key_all_frames
        frames = x[:, 0] if keys_only else x.flatten(0, 1)
        q = self.intra_quantizer(self._intra_latents(frames))
        logits = self._intra_logits(q.latents)
        ce, qloss, conf = (
            [F.cross_entropy(logits, frames, weight)],
            [q.loss],
            confusion(_classes(logits), frames, c),
        )
        if self.cfg.inter:
            prev = _classes(logits) if keys_only else _classes(logits).unflatten(0, x.shape[:2])[:, 0]
            for t in range(1, x.shape[1]):
                q = self.inter_quantizer(self._inter_latents(prev, x[:, t]))
                logits = self._inter_logits(q.latents, prev)
                prev = _classes(logits)
                ce.append(F.cross_entropy(logits, x[:, t], weight))
                qloss.append(q.loss)
                conf += confusion(prev, x[:, t], c)
        rec = torch.stack(ce).mean()
        scores = iou_scores(conf)
        logs = {"ce": float(rec.detach()), "iou": scores["iou"], "miou": scores["miou"],
                "perplexity": float(q.stats.get("perplexity", torch.tensor(0.0)))}  # fmt: skip
        return rec + torch.stack(qloss).mean(), logs

    def _device(self) -> torch.device:
        return next(self.parameters()).device

    # -- Codec ----------------------------------------------------------------------------------------
    def _levels(self, frames: int, num_tokens: int | None, levels: tuple[int, int] | None) -> tuple[int, int]:
        n = len(self.cfg.scales)
        if levels is not None:
            if len(levels) != 2 or not all(1 <= int(k) <= n for k in levels):
                raise ConfigError(f"levels must be (k_key, k_rest) with each in 1..{n}, got {levels!r}")
            return int(levels[0]), int(levels[1])
        if num_tokens is None:
            return n, n
        fits = [k for k in range(1, n + 1) if frames * self.frame_tokens(k) <= num_tokens]
        if not fits:
            raise ConfigError(
                f"{num_tokens} tokens cannot hold {frames} frames (at least {frames * self.frame_tokens(1)})"
            )
        return fits[-1], fits[-1]

    @torch.no_grad()
    def _code(
        self, x: torch.Tensor | None, ids: torch.Tensor | None, levels: tuple[int, int], frames: int
    ) -> tuple[list[torch.Tensor], torch.Tensor]:
        """Closed-loop coding: with frames ``x`` (B, T, Z, X, Y) quantize each frame (its ids are returned), with
        ``ids`` (B, L) read them; either way decode at ``levels`` and condition the next frame on that
        reconstruction. Returns (per-frame ids, reconstruction (B, T, Z, X, Y))."""
        out_ids, recon, prev, start = [], [], None, 0
        for t in range(frames):
            k = levels[0] if t == 0 else levels[1]
            n = self.frame_tokens(k)
            inter = self.cfg.inter and t > 0
            quantizer = self.inter_quantizer if inter else self.intra_quantizer
            if x is not None:
                z = self._inter_latents(prev, x[:, t]) if inter else self._intra_latents(x[:, t])
                frame_ids = quantizer(z).ids[:, :n]
                out_ids.append(frame_ids)
            else:
                frame_ids = ids[:, start : start + n]
                start += n
            latents = quantizer.ids_to_latents(frame_ids)
            logits = self._inter_logits(latents, prev) if inter else self._intra_logits(latents)
            prev = _classes(logits)
            recon.append(prev)
        return out_ids, torch.stack(recon, 1)

    @torch.no_grad()
    def encode(
        self, x: Any, *, num_tokens: int | None = None, levels: tuple[int, int] | None = None
    ) -> Tokens:
        """Tokens of each scene: all scales by default, ``levels=(k_key, k_rest)`` scales of the key frame and
        of the others, or (``num_tokens``, a budget per scene) the most scales that fit, the same on every frame."""
        return self.encode_reconstruct(x, num_tokens=num_tokens, levels=levels)[0]

    @torch.no_grad()
    def encode_reconstruct(
        self, x: Any, *, num_tokens: int | None = None, levels: tuple[int, int] | None = None
    ) -> tuple[Tokens, torch.Tensor]:
        """``encode``'s tokens and what ``decode`` will make of them, (B, T, X, Y, Z) uint8, in one pass (the
        closed loop computes the reconstruction anyway)."""
        x = _height_first(self.scenes(x).to(self._device()))
        k = self._levels(x.shape[1], num_tokens, levels)
        ids, recon = self._code(x, None, k, x.shape[1])
        meta = {"tokenizer": self.registry_name}
        tokens = Tokens.from_ids(torch.cat(ids, 1).cpu(), self.vocab_size, LAYOUT, (x.shape[1], *k), meta)
        return tokens, recon.permute(0, 1, 3, 4, 2).to(torch.uint8).cpu()

    @torch.no_grad()
    def decode(self, tokens: Tokens) -> list[torch.Tensor]:
        """(T, X, Y, Z) uint8 class ids per scene."""
        if tokens.layout != LAYOUT or len(tokens.shape) != 3 or tokens.vocab_size != self.vocab_size:
            raise DataError(
                f"expected {LAYOUT!r} tokens over {self.vocab_size} ids, got layout {tokens.layout!r} "
                f"shape {tokens.shape} over {tokens.vocab_size}"
            )
        frames, *k = tokens.shape
        levels = self._levels(frames, None, tuple(k))
        need = self.frame_tokens(levels[0]) + (frames - 1) * self.frame_tokens(levels[1])
        if frames < 1 or int(tokens.lengths.min()) != need or int(tokens.lengths.max()) != need:
            raise DataError(f"{frames} frames at scales {levels} need {need} tokens per scene")
        _, recon = self._code(None, tokens.ids[:, :need].to(self._device()), levels, frames)
        return list(recon.permute(0, 1, 3, 4, 2).to(torch.uint8).cpu())

    def load_file(self, path: Path) -> torch.Tensor:
        """A scene ``.npz`` as a batch of one."""
        return torch.from_numpy(read_scene(Path(path)).astype(np.int64))[None]

    def save_file(self, item: torch.Tensor, path: Path) -> None:
        write_scene(torch.as_tensor(item).cpu().numpy(), Path(path))

    def example_input(self) -> torch.Tensor:
        """Two 3-frame scenes: a floor and a box moving one voxel per frame."""
        s = self.cfg.size
        x = torch.zeros(2, 3, s, s, s, dtype=torch.int64)
        x[..., 0] = 1
        for t in range(3):
            x[0, t, 2 + t : 6 + t, 3:7, 1:5] = self.cfg.num_classes - 1
            x[1, t, 8:12, 4 + t : 9 + t, 1:3] = self.cfg.num_classes - 1
        return x


register_preset(
    "scene-ii-msrq", SceneTokenizer, SceneConfig(),
    "I²-World-style occupancy scenes (32³, 4 classes): key frame intra tokens + inter tokens of the change, "
    "multi-scale residual (msrq, scales 1-8, 512 codes)",
)  # fmt: skip
register_preset(
    "scene-frame-msrq", SceneTokenizer, SceneConfig(inter=False),
    "Occupancy scenes (32³, 4 classes) coded frame by frame with multi-scale residual tokens (the per-frame "
    "baseline of scene-ii-msrq)",
)  # fmt: skip
