"""RGB-D frames: a pinhole camera, checked (B, 4, H, W) frames (RGB in [0, 1], depth in metres, 0 = no
measurement), back-projection to points, the depth-error metrics of the monocular-depth literature (AbsRel,
RMSE, share within 1.25x; "Depth Map Prediction from a Single Image using a Multi-Scale Deep Network", Eigen
et al., 2014) and the equal-bytes floor: a downsampled log-depth map, upsampled."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from tokzoo.core.errors import DataError

__all__ = ["Camera", "backproject", "check_rgbd", "depth_floor", "depth_metrics", "floor_size"]


@dataclass(frozen=True)
class Camera:
    """A pinhole camera of ``size`` x ``size`` pixels and horizontal/vertical field of view ``fov_deg``
    (OpenCV axes: x right, y down, z forward); pixel (i, j) looks through its centre (j + 0.5, i + 0.5)."""

    size: int
    fov_deg: float

    @property
    def focal(self) -> float:
        return self.size / 2 / math.tan(math.radians(self.fov_deg) / 2)

    def matrix(self) -> list[list[float]]:
        """The 3x3 intrinsics matrix K."""
        f, c = self.focal, self.size / 2
        return [[f, 0.0, c], [0.0, f, c], [0.0, 0.0, 1.0]]

    def rays(self, device: torch.device | str = "cpu") -> torch.Tensor:
        """(H * W, 3) ray directions with z = 1, row-major, so a point at depth z on pixel p is z * rays[p]."""
        pix = (torch.arange(self.size, dtype=torch.float32, device=device) + 0.5 - self.size / 2) / self.focal
        y, x = torch.meshgrid(pix, pix, indexing="ij")
        return torch.stack([x, y, torch.ones_like(x)], -1).reshape(-1, 3)


def check_rgbd(x: object, size: int, near: float, far: float) -> torch.Tensor:
    """``x`` ((B, 4, H, W) or (4, H, W) tensors/arrays, or a list of (4, H, W)) as a float (B, 4, size, size)
    tensor; one-line DataError for another shape, NaN/inf, colour outside [0, 1], or a depth that is neither 0
    (no measurement) nor within [near, far] metres."""
    if isinstance(x, (list, tuple)):
        if not x:
            raise DataError("rgbd: empty batch: nothing to encode")
        shapes = {tuple(torch.as_tensor(f).shape) for f in x}
        if len(shapes) > 1:
            raise DataError(f"rgbd: frames of different shapes cannot form one batch: {sorted(shapes)}")
        x = torch.stack([torch.as_tensor(f) for f in x])
    t = torch.as_tensor(x, dtype=torch.float32)
    if t.ndim == 3:
        t = t[None]
    if t.ndim != 4 or tuple(t.shape[1:]) != (4, size, size):
        raise DataError(f"rgbd: expected frames (B, 4, {size}, {size}) (RGB + depth), got {tuple(t.shape)}")
    if len(t) == 0:
        raise DataError("rgbd: empty batch: nothing to encode")
    bad = ~torch.isfinite(t)
    if bad.any():
        raise DataError(f"rgbd: {int(bad.any(1).sum())} pixels have NaN or infinite colour or depth")
    rgb, depth = t[:, :3], t[:, 3]
    if rgb.min() < 0 or rgb.max() > 1:
        raise DataError(
            f"rgbd: colour must be in [0, 1], got [{float(rgb.min()):.3g}, {float(rgb.max()):.3g}]"
        )
    outside = (depth != 0) & ((depth < near) | (depth > far))
    if outside.any():
        raise DataError(
            f"rgbd: {int(outside.sum())} depths are outside [{near}, {far}] m (0 marks no measurement)"
        )
    return t


def backproject(depth: torch.Tensor, rays: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(points (N, 3), pixel indices (N,)) of the valid (non-zero) pixels of one depth map (H, W)."""
    flat = depth.reshape(-1)
    index = torch.nonzero(flat > 0).squeeze(1)
    return flat[index, None] * rays[index], index


def depth_metrics(pred: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
    """Over the pixels with a target depth: AbsRel (mean |pred - target| / target), RMSE (m), ``delta1`` (share
    with max(pred/target, target/pred) < 1.25) and ``coverage`` (share the prediction gives a depth at all). A
    pixel the prediction leaves empty (0) counts as predicted 0: relative error 1, outside 1.25x."""
    valid = target > 0
    if not valid.any():
        raise DataError("depth metrics: the target has no valid pixel")
    p, t = pred[valid].double(), target[valid].double()
    ratio = torch.where(p > 0, torch.maximum(p / t, t / p.clamp_min(1e-12)), torch.inf)
    return {
        "absrel": float(((p - t).abs() / t).mean()),
        "rmse": float(((p - t) ** 2).mean().sqrt()),
        "delta1": float((ratio < 1.25).double().mean()),
        "coverage": float((p > 0).double().mean()),
    }


def floor_size(bits: int, depth_bits: int = 10) -> int:
    """The side s of the largest s x s depth map of ``depth_bits`` per value that fits in ``bits``."""
    return max(1, math.isqrt(bits // depth_bits))


def depth_floor(
    depth: torch.Tensor, side: int, near: float, far: float, depth_bits: int = 10
) -> torch.Tensor:
    """The equal-bytes floor of a depth map (H, W): area-downsampled to side x side over its valid pixels (a
    cell with under half its area valid is sent as "none"), each value log-quantized to ``depth_bits`` bits over
    [near, far] (code 0 = none), then upsampled bilinearly with the validity as weight (a pixel whose
    interpolated validity is under 1/2 is empty). Costs side * side * depth_bits bits."""
    h, w = depth.shape
    valid = (depth > 0).float()[None, None]
    logd = torch.where(depth > 0, depth.clamp(near, far).log(), 0.0)[None, None]
    cover = F.interpolate(valid, size=(side, side), mode="area")
    small = F.interpolate(logd * valid, size=(side, side), mode="area") / cover.clamp_min(1e-12)
    levels = 2**depth_bits - 1  # codes 1..levels are depths, 0 is "none"
    lo, hi = math.log(near), math.log(far)
    code = torch.round((small - lo) / (hi - lo) * (levels - 1)).clamp(0, levels - 1) + 1
    keep = (cover >= 0.5).float()
    q = (code - 1) / (levels - 1) * (hi - lo) + lo
    up_w = F.interpolate(keep, size=(h, w), mode="bilinear", align_corners=False)
    up = F.interpolate(q * keep, size=(h, w), mode="bilinear", align_corners=False) / up_w.clamp_min(1e-12)
    return torch.where(up_w >= 0.5, up.exp(), 0.0)[0, 0]
