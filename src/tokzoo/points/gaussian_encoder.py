"""Learned Gaussian spatial tokens: one forward pass predicts an RGB-D frame's ``K`` anisotropic 3-D Gaussians.

After "GST-VLA: Structured Gaussian Spatial Tokens for 3D Depth-Aware Vision-Language-Action Models" (2025),
whose Gaussian Spatial Tokenizer pools depth + patch features into N_g Gaussians with *spatial attention pooling
by learned queries*, each Gaussian a residual mean, a log-scale covariance and an opacity. Here, trained from
scratch on the rendered frames of :mod:`tokzoo.points.depth_data` (GST-VLA uses frozen depth and semantic
encoders):

1. lift: every valid depth pixel to its camera-space point ``z * ray`` (the camera's intrinsics,
   :meth:`~tokzoo.points.rgbd.Camera.rays`); per ``patch`` x ``patch`` patch, the mean point and colour of its
   valid pixels;
2. patch features: a strided convolution over (RGB, validity, normalised log depth, each pixel's point relative
   to its patch's mean point / depth) plus an MLP of the patch's (x/z, y/z, log z, valid share), then a
   transformer over the patches;
3. pooling: ``K`` learned queries cross-attend to the patch features (SDPA; ``pool_blocks`` blocks of
   cross-attention + MLP); the logits get a locality bias ``-|patch - home_i|^2 / (2 reach^2)`` around a learned
   home position of query ``i`` in the image (a grid at start; without it the queries' attention starts
   uniform and all Gaussians collapse onto the frame's centroid — measured, AbsRel 0.2 vs 0.05 after 200 steps),
   and patches without a valid pixel are masked out;
4. each query's output predicts one Gaussian: an *anchor* — the mean point and colour of the patches under a
   further single-head attention of that query (a convex combination of lifted points, so it lies in the
   lifted surface's hull and on a plane for a plane) — plus an offset ``0.1 * anchor depth * o`` (``o`` starts
   at 0); three log scales relative to the depth and a quaternion (the same fields as the fitted tokenizer);
   opacity; colour = anchor colour + a correction;
5. the Gaussians become the 13 normalised fields of :class:`~tokzoo.points.gaussians.GaussianTokenizer` and go
   through its FSQ (61 bits a token by default): the tokens, their bytes and ``decode`` (its splatting
   renderer) are the fitted tokenizer's, so depth errors and bytes compare directly.

Training (``loss``): the fitted tokenizer's objective (:meth:`~GaussianTokenizer.fit_loss`: |log depth error|
on valid pixels + 0.1 opacity-vs-validity cross-entropy + 0.1 colour L1) of the splatted render on
``train_pixels`` random pixels, through the quantizer's straight-through rounding (what is sent is what is
trained). Token ``i`` is query ``i``'s Gaussian (query ``i`` starts with a home position on a grid over the
image, a Gaussian locality bias of its attention that training moves): a fixed order that the decoder mostly
ignores — the splatter sorts by centre depth, so a reordering of a frame's tokens decodes to the same frame as
long as Gaussians whose quantized centre depths tie keep their order (ties composite in token order).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from tokzoo.core.errors import ConfigError, DataError
from tokzoo.core.presets import register_preset
from tokzoo.nn.transformer import Transformer
from tokzoo.points.gaussians import GaussianConfig, GaussianTokenizer
from tokzoo.points.rgbd import check_rgbd

__all__ = ["GaussianEncoderConfig", "GaussianEncoderTokenizer"]

_FITTING = ("kmeans_iters", "steps", "lr", "fit_pixels", "init_scale")
_OUT = 3 + 3 + 4 + 1 + 3  # offset, log scales, quaternion, opacity, colour correction


@dataclass
class GaussianEncoderConfig(GaussianConfig):
    """:class:`~tokzoo.points.gaussians.GaussianConfig` (camera, ranges, ``field_bits``; its fitting options do
    not apply) plus the encoder: ``patch`` px patches, transformer ``dim``/``depth``/``heads``, ``pool_blocks``
    cross-attention blocks of the ``K`` queries; training on ``train_pixels`` random pixels a frame."""

    patch: int = 4
    dim: int = 128
    depth: int = 3
    heads: int = 4
    pool_blocks: int = 2
    train_pixels: int = 1024

    def inapplicable_fields(self) -> dict[str, str]:
        return {k: "the learned encoder predicts the Gaussians: no per-frame fitting" for k in _FITTING}


def _cell_centres(n: int) -> torch.Tensor:
    """(n², 2) (x, y) centres of an n x n grid over [-1, 1]², rows of y, x fastest."""
    cells = (torch.arange(n, dtype=torch.float32) + 0.5) / n * 2 - 1
    return torch.stack(torch.meshgrid(cells, cells, indexing="ij")[::-1], -1).reshape(-1, 2)


class _PoolBlock(nn.Module):
    """``q + cross_attn(norm(q), patches)`` then ``q + mlp(norm(q))``; ``bias`` (B, K, N) is added to the
    attention logits (-inf: a patch without depth)."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.norm_q, self.norm_kv, self.norm_mlp = nn.LayerNorm(dim), nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.q, self.kv, self.proj = nn.Linear(dim, dim), nn.Linear(dim, 2 * dim), nn.Linear(dim, dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, q: torch.Tensor, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, k, d = q.shape
        h = self.heads
        qh = self.q(self.norm_q(q)).view(b, k, h, d // h).transpose(1, 2)
        kh, vh = self.kv(self.norm_kv(x)).view(b, -1, 2, h, d // h).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(qh, kh, vh, attn_mask=bias[:, None])
        q = q + self.proj(out.transpose(1, 2).reshape(b, k, d))
        return q + self.mlp(self.norm_mlp(q))


class GaussianEncoderTokenizer(GaussianTokenizer):
    """RGB-D frames (B, 4, H, W) <-> ``num_gaussians`` Gaussian tokens predicted by a learned encoder (module
    docstring); ``decode`` and the token format are :class:`GaussianTokenizer`'s."""

    def __init__(self, cfg: GaussianEncoderConfig) -> None:
        super().__init__(cfg)
        if cfg.patch < 1 or cfg.size % cfg.patch:
            raise ConfigError(f"gst-learned: patch {cfg.patch} must divide the frame size {cfg.size}")
        if cfg.dim % cfg.heads or cfg.depth < 0 or cfg.pool_blocks < 1 or cfg.train_pixels < 1:
            raise ConfigError(
                "gst-learned: need dim divisible by heads, depth >= 0, pool_blocks >= 1, train_pixels >= 1"
            )
        d = cfg.dim
        self.patchify = nn.Conv2d(8, d, cfg.patch, stride=cfg.patch)
        self.patch_pos = nn.Sequential(nn.Linear(4, d), nn.GELU(), nn.Linear(d, d))
        self.encoder = Transformer(d, cfg.depth, cfg.heads)
        self.queries = nn.Parameter(torch.randn(cfg.num_gaussians, d) * 0.02)
        g = math.ceil(math.sqrt(cfg.num_gaussians))
        self.home = nn.Parameter(
            _cell_centres(g)[: cfg.num_gaussians].clone()
        )  # (x, y) in [-1, 1], a grid at start
        self.log_reach = nn.Parameter(torch.tensor(math.log(1.2 / g)))
        self.pool = nn.ModuleList(_PoolBlock(d, cfg.heads) for _ in range(cfg.pool_blocks))
        self.anchor_q, self.anchor_k = nn.Linear(d, d), nn.Linear(d, d)
        self.norm_out = nn.LayerNorm(d)
        self.head = nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.Linear(d, _OUT))
        with (
            torch.no_grad()
        ):  # start: Gaussians at their anchors, identity rotation, ~0.06 x depth, opacity 0.88
            last = self.head[-1]
            last.weight[:3].zero_()
            last.bias.zero_()
            lo, hi = math.log(cfg.min_scale), math.log(cfg.max_scale)
            share = min(max((math.log(0.06) - lo) / (hi - lo), 0.05), 0.95)
            last.bias[3:6] = math.log(share / (1 - share))
            last.bias[6] = 1.0
            last.bias[10] = 2.0

    # -- the encoder ------------------------------------------------------------------------------------------
    def _patches(self, frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Patch features (B, N, dim), patch anchors (B, N, 6: mean point, mean colour) and validity (B, N)."""
        c, p = self.cfg, self.cfg.patch
        n = c.size
        rays = self.camera.rays(frames.device).T.reshape(1, 3, n, n)
        depth = frames[:, 3:4]
        valid = (depth > 0).float()
        xyz = depth * rays  # 0 where there is no depth
        count = F.avg_pool2d(valid, p) * p * p  # (B, 1, n/p, n/p)
        mean = F.avg_pool2d(torch.cat([xyz, frames[:, :3] * valid], 1), p) * p * p / count.clamp_min(1)
        up = F.interpolate(mean[:, :3], scale_factor=p, mode="nearest")
        rel = ((xyz - up) / up[:, 2:3].clamp_min(c.near) * valid / (p / self.camera.focal)).clamp(-8, 8)
        mid, half = (math.log(c.near) + math.log(c.far)) / 2, (math.log(c.far) - math.log(c.near)) / 2
        logd = torch.where(depth > 0, (depth.clamp_min(c.near).log() - mid) / half, 0.0)
        feats = self.patchify(torch.cat([frames[:, :3], valid, logd, rel], 1)).flatten(2).transpose(1, 2)
        has = (count > 0).flatten(1)
        centre_z = mean[:, 2].flatten(1).clamp_min(c.near)
        centre_rays = F.avg_pool2d(rays, p).flatten(2)[0].T  # (N, 3) rays of the patch centres
        uv = torch.where(
            has[..., None], mean[:, :2].flatten(2).transpose(1, 2) / centre_z[..., None], centre_rays[:, :2]
        )
        logz = torch.where(has, (centre_z.log() - mid) / half, 0.0)
        pos = torch.cat([uv, logz[..., None], (count / (p * p)).flatten(1)[..., None]], -1)
        h = self.encoder(feats + self.patch_pos(pos))
        return h, mean.flatten(2).transpose(1, 2), has

    def predict_fields(self, frames: torch.Tensor) -> torch.Tensor:
        """Normalised fields (B, K, 13) (:data:`~tokzoo.points.gaussians.FIELDS`) of checked frames, before
        quantization."""
        c = self.cfg
        if not (frames[:, 3] > 0).flatten(1).any(1).all():
            raise DataError("gst-learned: a frame has no valid depth pixel: nothing to place Gaussians on")
        h, anchors, has = self._patches(frames)
        grid = _cell_centres(c.size // c.patch).to(h.device)
        near = -(grid[None] - self.home[:, None]).pow(2).sum(-1) / (2 * torch.exp(2 * self.log_reach))
        bias = torch.where(has[:, None], near[None], -torch.inf)  # (B, K, N)
        q = self.queries.expand(len(frames), -1, -1)
        for block in self.pool:
            q = block(q, h, bias)
        aq = self.anchor_q(q)[:, None]
        ak = self.anchor_k(h)[:, None]
        anchor = F.scaled_dot_product_attention(aq, ak, anchors[:, None], attn_mask=bias[:, None])[:, 0]
        out = self.head(self.norm_out(q))
        point, colour = anchor[..., :3], anchor[..., 3:]
        means = point + 0.1 * point[..., 2:3].clamp_min(c.near) * out[..., :3]
        z = means[..., 2].clamp(c.near, c.far)
        f = self.camera.focal
        u = (means[..., 0] / z * f + c.size / 2) / c.size
        v = (means[..., 1] / z * f + c.size / 2) / c.size
        logz = (z.log() - math.log(c.near)) / (math.log(c.far) - math.log(c.near))
        quat = F.normalize(out[..., 6:10], dim=-1)
        quat = torch.where(quat[..., :1] < 0, -quat, quat)
        t = torch.cat([
            u[..., None], v[..., None], logz[..., None], torch.sigmoid(out[..., 3:6]), (quat[..., 1:] + 1) / 2,
            torch.sigmoid(out[..., 10:11]), colour + out[..., 11:14],
        ], -1)  # fmt: skip
        return t.clamp(0, 1)

    # -- training ---------------------------------------------------------------------------------------------
    def loss(self, batch: Any) -> tuple[torch.Tensor, dict[str, float]]:
        """The fitting objective of the splatted quantized Gaussians on ``train_pixels`` random pixels."""
        frames = check_rgbd(batch, self.cfg.size, self.cfg.near, self.cfg.far).to(self.queries.device)
        t = self.predict_fields(frames)
        tq = self._unsquash(self.quantizer(self._squash(t)).latents)
        n = self.cfg.size**2
        pixels = (
            None
            if self.cfg.train_pixels >= n
            else torch.randperm(n, device=t.device)[: self.cfg.train_pixels]
        )
        loss = self.fit_loss(tq, frames, pixels)
        return loss, {"fit_loss": float(loss.detach())}

    def _token_fields(self, frames: torch.Tensor) -> torch.Tensor:
        """The quantizer's input for checked ``frames``: one forward pass of the encoder."""
        return self._squash(self.predict_fields(frames.to(self.queries.device)))


register_preset(
    "gst-learned-64", GaussianEncoderTokenizer, GaussianEncoderConfig(num_gaussians=64),
    "Learned Gaussian spatial tokens (GST-VLA-style): 64 anisotropic 3-D Gaussians predicted by learned-query "
    "attention pooling over a 64 px RGB-D frame's lifted patches, 61 bits each (the gst-depth-64 token format)",
)  # fmt: skip
