"""Gaussian spatial tokens: an RGB-D frame as a fixed budget of ``K`` anisotropic 3-D Gaussians, one token each.

After "GST-VLA: Structured Gaussian Spatial Tokens for 3D Depth-Aware Vision-Language-Action Models" (2025),
whose tokenizer turns depth + image features into N_g = 128 Gaussians (mean, log-scale covariance, opacity,
feature); here the feature is the mean colour and the Gaussians are *fitted* to one frame instead of predicted:

1. back-project the valid depth pixels to points (:func:`~tokzoo.points.rgbd.backproject`);
2. ``K`` clusters: farthest point sampling (deterministic, :func:`~tokzoo.points.groups.farthest_points`)
   then ``kmeans_iters`` Lloyd steps in 3-D; each cluster gives a Gaussian — its mean, the eigenvectors and
   square-rooted eigenvalues of its covariance (plus a pixel's footprint), opacity 0.9, its mean colour;
3. ``steps`` of Adam, each on ``fit_pixels`` random pixels, on the splatted depth loss (|log depth error| on valid pixels + 0.1 x the cross-entropy of
   the accumulated opacity against validity + 0.1 x colour L1; :func:`~tokzoo.points.splat.splat`); the last
   third of the steps see the quantized parameters (straight-through rounding), so what is sent is what was
   optimised;
4. quantize the 13 parameters of each Gaussian uniformly — one :class:`~tokzoo.quant.FSQ` over them with
   identity projections, inputs squashed so that its ``L`` levels split each parameter's range into ``L``
   equal bins — and send the mixed-radix FSQ id: one token of ``sum(field_bits)`` bits (61 by default).

The 13 fields, with the default bits: the projected centre (u, v) on the image (7 + 7 bits: 1/2 pixel at
64 px), log depth over [near, far] (9), three log scales relative to the depth over [min_scale, max_scale]
(4 each), the rotation as the (x, y, z) of a unit quaternion with w >= 0 (5 each), opacity (2), colour (3 per
channel). ``decode`` splats the Gaussians back to an RGB-D frame; pixels with accumulated opacity under 1/2
are empty (depth 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from tokzoo.core.errors import ConfigError, DataError
from tokzoo.core.presets import register_preset
from tokzoo.core.tokenizer import Tokenizer
from tokzoo.core.tokens import Tokens
from tokzoo.points.data import MESH_SUFFIXES
from tokzoo.points.depth_data import read_frame, render, render_view, scene, view_pose, write_frame
from tokzoo.points.groups import farthest_points
from tokzoo.points.rgbd import Camera, backproject, check_rgbd
from tokzoo.points.splat import splat
from tokzoo.quant.fsq import FSQ

__all__ = ["FIELDS", "GaussianConfig", "GaussianTokenizer", "matrix_to_quaternion"]

FIELDS = ("u", "v", "log_depth", "log_scale_1", "log_scale_2", "log_scale_3", "quat_x", "quat_y", "quat_z",
          "opacity", "red", "green", "blue")  # fmt: skip
_EPS = 1e-4  # keeps the normalised parameters inside (0, 1) before the squashing is inverted


@dataclass
class GaussianConfig:
    """``num_gaussians`` tokens per frame of ``size`` x ``size`` pixels seen with field of view ``fov_deg``;
    depths in [``near``, ``far``] m; Gaussian scales in [``min_scale``, ``max_scale``] x their depth;
    ``field_bits`` per parameter (order of :data:`FIELDS`, at most 61 bits in all); fitting: ``kmeans_iters``
    Lloyd steps (cluster scales times ``init_scale``), then ``steps`` Adam steps at learning rate ``lr`` (0: the
    clusters alone), each on ``fit_pixels`` pixels drawn afresh (seeded: encoding is deterministic)."""

    num_gaussians: int = 64
    size: int = 64
    fov_deg: float = 60.0
    near: float = 0.5
    far: float = 8.0
    min_scale: float = 0.003
    max_scale: float = 0.5
    field_bits: list = field(default_factory=lambda: [7, 7, 9, 4, 4, 4, 5, 5, 5, 2, 3, 3, 3])
    kmeans_iters: int = 8
    steps: int = 30
    lr: float = 0.05
    fit_pixels: int = 2048
    init_scale: float = 1.5


def matrix_to_quaternion(r: torch.Tensor) -> torch.Tensor:
    """Unit quaternions (..., 4) (w, x, y, z), w >= 0, of rotation matrices (..., 3, 3) (each of the four
    standard formulas where its divisor is largest, for stability)."""
    m = r.reshape(-1, 3, 3)
    tr = m[:, 0, 0] + m[:, 1, 1] + m[:, 2, 2]
    cands = torch.stack([
        torch.stack([1 + tr, m[:, 2, 1] - m[:, 1, 2], m[:, 0, 2] - m[:, 2, 0], m[:, 1, 0] - m[:, 0, 1]], -1),
        torch.stack([m[:, 2, 1] - m[:, 1, 2], 1 + 2 * m[:, 0, 0] - tr, m[:, 0, 1] + m[:, 1, 0], m[:, 0, 2] + m[:, 2, 0]], -1),
        torch.stack([m[:, 0, 2] - m[:, 2, 0], m[:, 0, 1] + m[:, 1, 0], 1 + 2 * m[:, 1, 1] - tr, m[:, 1, 2] + m[:, 2, 1]], -1),
        torch.stack([m[:, 1, 0] - m[:, 0, 1], m[:, 0, 2] + m[:, 2, 0], m[:, 1, 2] + m[:, 2, 1], 1 + 2 * m[:, 2, 2] - tr], -1),
    ], 1)  # fmt: skip
    best = torch.stack([tr, m[:, 0, 0], m[:, 1, 1], m[:, 2, 2]], -1).argmax(-1)
    q = torch.nn.functional.normalize(cands[torch.arange(len(m)), best], dim=-1)
    q = torch.where(q[:, :1] < 0, -q, q)
    return q.reshape(*r.shape[:-2], 4)


class GaussianTokenizer(Tokenizer):
    """RGB-D frames (B, 4, H, W) <-> ``num_gaussians`` fitted Gaussian tokens per frame (no learned weights)."""

    modality = "rgbd"

    def __init__(self, cfg: GaussianConfig) -> None:
        super().__init__(cfg)
        bits = [int(b) for b in cfg.field_bits]
        if len(bits) != len(FIELDS) or min(bits) < 1 or sum(bits) > 61:
            raise ConfigError(
                f"gst: field_bits needs {len(FIELDS)} counts >= 1 ({', '.join(FIELDS)}), at most 61 bits in all"
            )
        if not 1 <= cfg.num_gaussians <= 4096 or not 8 <= cfg.size <= 512 or not 1 <= cfg.fov_deg <= 170:
            raise ConfigError("gst: need 1 <= num_gaussians <= 4096, 8 <= size <= 512, 1 <= fov_deg <= 170")
        if not 0 < cfg.near < cfg.far or not 0 < cfg.min_scale < cfg.max_scale or cfg.steps < 0:
            raise ConfigError("gst: need 0 < near < far, 0 < min_scale < max_scale and steps >= 0")
        self.quantizer = FSQ(len(FIELDS), [2**b for b in bits])
        self.camera = Camera(cfg.size, cfg.fov_deg)

    @property
    def vocab_size(self) -> int:
        return self.quantizer.codebook_size

    # -- parameters <-> normalised fields (each in [0, 1]) --------------------------------------------------
    def gaussians(self, t: torch.Tensor) -> dict[str, torch.Tensor]:
        """Means (B, K, 3), scales, quaternions, opacity and colours of normalised fields ``t`` (B, K, 13)."""
        c = self.cfg
        f, half = self.camera.focal, c.size / 2
        z = torch.exp(math.log(c.near) + t[..., 2] * (math.log(c.far) - math.log(c.near)))
        x, y = (t[..., 0] * c.size - half) / f, (t[..., 1] * c.size - half) / f
        lo, hi = math.log(c.min_scale), math.log(c.max_scale)
        scales = z[..., None] * torch.exp(lo + t[..., 3:6] * (hi - lo))
        xyz = 2 * t[..., 6:9] - 1
        w = (1 - xyz.pow(2).sum(-1, keepdim=True)).clamp_min(1e-6).sqrt()  # finite gradient at |xyz| = 1
        means = z[..., None] * torch.stack([x, y, torch.ones_like(x)], -1)
        return {"means": means, "scales": scales, "quats": torch.cat([w, xyz], -1),
                "opacity": t[..., 9], "colours": t[..., 10:13]}  # fmt: skip

    def fields(self, means: torch.Tensor, scales: torch.Tensor, rot: torch.Tensor, opacity: torch.Tensor,
               colours: torch.Tensor) -> torch.Tensor:  # fmt: skip
        """The inverse of :meth:`gaussians` (rotation matrices ``rot`` (B, K, 3, 3)), clamped into [0, 1]."""
        c = self.cfg
        z = means[..., 2].clamp(c.near, c.far)
        u = (means[..., 0] / z * self.camera.focal + c.size / 2) / c.size
        v = (means[..., 1] / z * self.camera.focal + c.size / 2) / c.size
        logz = (z.log() - math.log(c.near)) / (math.log(c.far) - math.log(c.near))
        lo, hi = math.log(c.min_scale), math.log(c.max_scale)
        ls = ((scales / z[..., None]).clamp_min(1e-12).log() - lo) / (hi - lo)
        q = matrix_to_quaternion(rot)
        t = torch.cat([u[..., None], v[..., None], logz[..., None], ls, (q[..., 1:] + 1) / 2,
                       opacity[..., None], colours], -1)  # fmt: skip
        return t.clamp(0, 1)

    def _squash(self, t: torch.Tensor) -> torch.Tensor:
        """FSQ input whose squashing ``tanh`` gives back ``2 t - 1``."""
        return torch.atanh((2 * t - 1).clamp(-1 + _EPS, 1 - _EPS))

    def _unsquash(self, codes: torch.Tensor) -> torch.Tensor:
        """Normalised fields of FSQ codes in [-1, 1]: the centre of each level's bin."""
        levels = self.quantizer._levels.float()
        return (codes * (levels - 1) / 2 + levels / 2) / levels

    # -- fitting ----------------------------------------------------------------------------------------------
    def initial_fields(self, frame: torch.Tensor) -> torch.Tensor:
        """(K, 13) normalised fields of the k-means clusters of one checked frame's back-projected points."""
        k, rays = self.cfg.num_gaussians, self.camera.rays(frame.device)
        points, index = backproject(frame[3], rays)
        if len(points) < k:
            raise DataError(f"rgbd: {len(points)} valid depth pixels; {k} Gaussians need at least {k}")
        colour = frame[:3].reshape(3, -1)[:, index].T
        centres = points[farthest_points(points[None], k)[0]]
        for _ in range(self.cfg.kmeans_iters):
            assign = torch.cdist(points, centres).argmin(1)
            count = torch.bincount(assign, minlength=k).float()
            sums = torch.zeros_like(centres).index_add_(0, assign, points)
            centres = torch.where(count[:, None] > 0, sums / count.clamp_min(1)[:, None], centres)
        assign = torch.cdist(points, centres).argmin(1)
        count = torch.bincount(assign, minlength=k).float().clamp_min(1)[:, None]
        means = torch.zeros_like(centres).index_add_(0, assign, points) / count
        off = points - means[assign]
        cov = torch.zeros(k, 3, 3).index_add_(0, assign, off[:, :, None] * off[:, None]) / count[..., None]
        pixel = (means[:, 2] / self.camera.focal) ** 2 / 12  # variance of one pixel's footprint
        eigval, eigvec = torch.linalg.eigh(cov + pixel[:, None, None] * torch.eye(3))
        eigvec = torch.where(
            torch.linalg.det(eigvec)[:, None, None] < 0, eigvec * torch.tensor([1.0, 1, -1]), eigvec
        )
        colours = torch.zeros(k, 3).index_add_(0, assign, colour) / count
        t = self.fields(means[None], self.cfg.init_scale * eigval.clamp_min(0).sqrt()[None], eigvec[None], torch.full((1, k), 0.9),
                        colours[None])  # fmt: skip
        return t[0]

    def render_fields(self, t: torch.Tensor, pixels: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """:func:`splat` of normalised fields ``t`` (B, K, 13) through this model's camera (at ``pixels``, flat
        indices, or every pixel)."""
        g = self.gaussians(t)
        rays = self.camera.rays(t.device)
        rays = rays if pixels is None else rays[pixels]
        return splat(g["means"], g["scales"], g["quats"], g["opacity"], rays, g["colours"])

    def fit_loss(
        self, t: torch.Tensor, frames: torch.Tensor, pixels: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The fitting loss of fields ``t`` (B, K, 13) against checked frames (B, 4, H, W) at ``pixels``."""
        out = self.render_fields(t, pixels)
        depth, rgb = frames[:, 3].flatten(1), frames[:, :3].flatten(2).transpose(1, 2)
        if pixels is not None:
            depth, rgb = depth[:, pixels], rgb[:, pixels]
        valid = depth > 0
        err = (out["depth"].clamp_min(1e-3).log() - depth.clamp_min(1e-3).log()).abs()
        depth_term = (err * valid).sum() / valid.sum().clamp_min(1)
        a = out["alpha"].clamp(1e-4, 1 - 1e-4)
        mask_term = -(valid * a.log() + (~valid) * (1 - a).log()).mean()
        colour_term = ((out["colour"] - rgb).abs().sum(-1) * valid).sum() / valid.sum().clamp_min(1)
        return depth_term + 0.1 * mask_term + 0.1 * colour_term

    def fit_fields(self, frames: torch.Tensor) -> torch.Tensor:
        """Squashed FSQ inputs (B, K, 13) of the fitted Gaussians of checked frames (module docstring)."""
        h = self._squash(torch.stack([self.initial_fields(f) for f in frames]))
        if self.cfg.steps == 0 or self.cfg.lr <= 0:
            return h
        h = h.clone().requires_grad_(True)
        opt = torch.optim.Adam([h], lr=self.cfg.lr)
        n = self.cfg.size**2
        gen = torch.Generator().manual_seed(0)
        for step in range(self.cfg.steps):
            pixels = (
                None if self.cfg.fit_pixels >= n else torch.randperm(n, generator=gen)[: self.cfg.fit_pixels]
            )
            quantized = step >= self.cfg.steps - self.cfg.steps // 3
            codes = self.quantizer(h).latents if quantized else torch.tanh(h)
            loss = self.fit_loss(self._unsquash(codes) if quantized else (codes + 1) / 2, frames, pixels)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return h.detach()

    # -- Codec -------------------------------------------------------------------------------------------------
    def encode(self, x: Any, *, num_tokens: int | None = None) -> Tokens:
        """``num_gaussians`` tokens per frame of ``x`` ((B, 4, H, W) or a list of (4, H, W): RGB in [0, 1],
        depth in metres, 0 = no measurement)."""
        if num_tokens is not None and num_tokens != self.cfg.num_gaussians:
            raise ConfigError(
                f"this tokenizer always gives {self.cfg.num_gaussians} tokens, not {num_tokens}"
            )
        frames = check_rgbd(x, self.cfg.size, self.cfg.near, self.cfg.far)
        with torch.no_grad():
            ids = self.quantizer(self._token_fields(frames)).ids
        return Tokens.from_ids(ids, self.vocab_size, meta={"tokenizer": self.registry_name})

    def _token_fields(self, frames: torch.Tensor) -> torch.Tensor:
        """The quantizer's input (B, K, 13) for checked ``frames``: here fitted to each frame."""
        with torch.enable_grad():
            return self.fit_fields(frames)

    @torch.no_grad()
    def decode(self, tokens: Tokens) -> torch.Tensor:
        """(B, 4, H, W) frames: splatted colour and depth (0 where the accumulated opacity is under 1/2)."""
        k = self.cfg.num_gaussians
        if tokens.vocab_size != self.vocab_size or tokens.layout != "seq1d" or tokens.ids.shape[1] != k:
            raise DataError(
                f"gst: expected seq1d tokens of {k} ids over {self.vocab_size} values, got "
                f"{tokens.ids.shape[1]} over {tokens.vocab_size} ({tokens.layout})"
            )
        if (tokens.lengths != k).any():
            raise DataError(f"gst: every frame needs all {k} tokens")
        t = self._unsquash(self.quantizer.ids_to_codes(tokens.ids))
        out = self.render_fields(t)
        depth = torch.where(out["alpha"] >= 0.5, out["depth"], 0.0)
        n = self.cfg.size
        rgb = (out["colour"] * (out["alpha"][..., None] >= 0.5)).clamp(0, 1).transpose(1, 2)
        return torch.cat([rgb, depth[:, None]], 1).reshape(-1, 4, n, n)

    # -- files -------------------------------------------------------------------------------------------------
    def load_file(self, path: Path) -> torch.Tensor:
        """An ``.npz`` frame (:func:`~tokzoo.points.depth_data.read_frame`) or view 0 of a mesh file, as (1, 4, H, W)."""
        path = Path(path)
        if path.suffix.lower() in MESH_SUFFIXES:
            return render_view(path, 0, self.camera)[None]
        return read_frame(path, self.camera)[None]

    def save_file(self, item: torch.Tensor, path: Path) -> None:
        """Write a (4, H, W) frame as ``.npz``."""
        write_frame(item, self.camera, Path(path))

    def example_input(self) -> torch.Tensor:
        """Two views of a unit cube standing on the checkered floor."""
        corners = torch.tensor(
            [[x, y, z] for x in (0, 1) for y in (0, 1) for z in (0, 1)], dtype=torch.float32
        )
        quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
        faces = torch.tensor([tri for a, b, c, d in quads for tri in ((a, b, c), (a, c, d))])
        v, f, n = scene(corners.numpy(), faces.numpy())
        return torch.stack([render(v, f, n, *view_pose("cube", i), self.camera) for i in range(2)])


for _k in (16, 32, 64, 128, 256):
    register_preset(
        f"gst-depth-{_k}", GaussianTokenizer, GaussianConfig(num_gaussians=_k),
        f"Gaussian spatial tokens (GST-VLA-style): {_k} anisotropic 3-D Gaussians fitted to a 64 px RGB-D frame, "
        "61 bits each (centre, log depth, scales, rotation, opacity, colour)",
    )  # fmt: skip
