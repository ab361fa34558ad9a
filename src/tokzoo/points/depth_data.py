"""RGB-D frames rendered from the real meshes of :mod:`tokzoo.points.data` (no Debian or PyPI package ships
real RGB-D frames: the PyPI loaders ``nyu-depth-v2`` and ``M18K`` download their data at run time, Debian's
``libfreenect`` ships a driver and no recordings).

Each frame is one mesh, normalised to the unit sphere and standing on a 5 x 5 checkered floor, seen by a
posed pinhole camera (:class:`~tokzoo.points.rgbd.Camera`) from a distance of 2.4-3.2 at an elevation of
15-45 degrees, all drawn from the SHA-256 of (file name, view), so a frame is a pure function of its file and
view. Rendering is exact ray casting against every triangle (pure PyTorch, nearest hit wins, the z-buffer
rule); depth is the camera z in metres (0 where the ray hits nothing), colour a Lambertian shading (one light,
plain albedo: the meshes' textures are not read). Frames of ``homedecor:train`` / ``homedecor:test`` are split
by source mesh as the point clouds are.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from tokzoo.core.atomic import atomic_write_bytes
from tokzoo.core.errors import DataError
from tokzoo.points.data import read_mesh
from tokzoo.points.rgbd import Camera

__all__ = [
    "FrameDataset",
    "look_at",
    "read_frame",
    "render",
    "render_view",
    "scene",
    "view_pose",
    "write_frame",
]

_OBJECT_ALBEDO = (0.80, 0.68, 0.52)
_LIGHT = (-0.35, -0.75, -1.0)  # towards the light, camera axes (up-left, behind the camera)


def scene(vertices: np.ndarray, faces: np.ndarray) -> tuple[torch.Tensor, torch.Tensor, int]:
    """(vertices, faces, number of object faces): the mesh centred on its bounding box with its farthest
    vertex at radius 1, plus a 5 x 5 floor square (2 triangles) under it at its lowest y."""
    v = torch.as_tensor(np.asarray(vertices, dtype=np.float64), dtype=torch.float32)
    f = torch.as_tensor(np.asarray(faces, dtype=np.int64))
    if v.ndim != 2 or v.shape[-1] != 3 or f.ndim != 2 or f.shape[-1] != 3 or len(f) == 0:
        raise DataError(
            f"a mesh needs vertices (V, 3) and faces (F, 3), got {tuple(v.shape)}, {tuple(f.shape)}"
        )
    if not torch.isfinite(v).all():
        raise DataError("the mesh has NaN or infinite vertices")
    if f.min() < 0 or f.max() >= len(v):
        raise DataError(f"a face refers to a vertex outside [0, {len(v)})")
    v = v - (v.amax(0) + v.amin(0)) / 2
    radius = v.norm(dim=1).max()
    if not radius > 0:
        raise DataError("the mesh is a single point")
    v = v / radius
    y = float(v[:, 1].min())
    floor = torch.tensor([[-2.5, y, -2.5], [2.5, y, -2.5], [2.5, y, 2.5], [-2.5, y, 2.5]])
    floor_faces = torch.tensor([[0, 1, 2], [0, 2, 3]]) + len(v)
    return torch.cat([v, floor]), torch.cat([f, floor_faces]), len(f)


def look_at(eye: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """World-to-camera rotation (3, 3) (rows: right, down, forward) of a camera at ``eye`` looking at
    ``target`` with world +y up."""
    forward = torch.nn.functional.normalize(target - eye, dim=0)
    right = torch.nn.functional.normalize(torch.linalg.cross(forward, torch.tensor([0.0, 1.0, 0.0])), dim=0)
    return torch.stack([right, torch.linalg.cross(forward, right), forward])


def view_pose(name: str, view: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(rotation (3, 3), eye (3,)) of view ``view`` of the mesh file ``name``: a pure function of both."""
    digest = hashlib.sha256(f"{name}:{view}".encode()).digest()
    u = [int.from_bytes(digest[4 * i : 4 * i + 4], "little") / 2**32 for i in range(5)]
    azimuth, elevation = 2 * np.pi * u[0], np.radians(15 + 30 * u[1])
    distance = 2.4 + 0.8 * u[2]
    eye = distance * torch.tensor(
        [np.cos(elevation) * np.sin(azimuth), np.sin(elevation), np.cos(elevation) * np.cos(azimuth)],
        dtype=torch.float32,
    )
    target = torch.tensor([0.3 * (u[3] - 0.5), 0.0, 0.3 * (u[4] - 0.5)], dtype=torch.float32)
    return look_at(eye, target), eye


def render(
    vertices: torch.Tensor,
    faces: torch.Tensor,
    object_faces: int,
    rotation: torch.Tensor,
    eye: torch.Tensor,
    camera: Camera,
    chunk: int = 256,
) -> torch.Tensor:
    """(4, H, W): shaded RGB and z-depth (0 where no triangle is hit) of a :func:`scene` seen from ``eye``.

    Ray casting ("Fast, Minimum Storage Ray/Triangle Intersection", Möller and Trumbore, 1997) of every
    pixel against every triangle, in chunks of ``chunk`` triangles; the nearest hit in front of the camera
    wins. Faces from ``object_faces`` on are the floor (checkered albedo)."""
    tri = ((vertices - eye) @ rotation.T)[faces]  # (F, 3, 3) camera coordinates
    rays = camera.rays()
    best = torch.full((len(rays),), torch.inf)
    hit = torch.full((len(rays),), -1, dtype=torch.long)
    for start in range(0, len(tri), chunk):
        v0, v1, v2 = tri[start : start + chunk].unbind(1)
        e1, e2 = v1 - v0, v2 - v0
        p = torch.linalg.cross(rays[:, None].expand(-1, len(e2), -1), e2[None].expand(len(rays), -1, -1))
        det = (p * e1).sum(-1)
        inv = 1 / torch.where(det.abs() > 1e-12, det, torch.inf)
        u = (p * -v0).sum(-1) * inv
        q = torch.linalg.cross(-v0, e1)
        v = (rays @ q.T) * inv
        t = (q * e2).sum(-1) * inv
        ok = (det.abs() > 1e-12) & (u >= 0) & (v >= 0) & (u + v <= 1) & (t > 1e-3)
        t = torch.where(ok, t, torch.inf)
        value, index = t.min(1)
        closer = value < best
        best, hit = torch.where(closer, value, best), torch.where(closer, index + start, hit)
    found = hit >= 0
    normals = torch.nn.functional.normalize(
        torch.linalg.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), dim=1
    )
    light = torch.nn.functional.normalize(torch.tensor(_LIGHT), dim=0)
    shade = 0.2 + 0.8 * (normals[hit.clamp_min(0)] @ light).abs()
    world = (best[:, None].clamp_max(1e6) * rays) @ rotation + eye
    check = (torch.floor(world[:, 0] * 2) + torch.floor(world[:, 2] * 2)).remainder(2)
    floor_albedo = (0.35 + 0.25 * check)[:, None].expand(-1, 3)
    albedo = torch.where((hit >= object_faces)[:, None], floor_albedo, torch.tensor(_OBJECT_ALBEDO))
    rgb = torch.where(found[:, None], albedo * shade[:, None], 0.0)
    depth = torch.where(found, best, 0.0)
    return torch.cat([rgb.T, depth[None]]).reshape(4, camera.size, camera.size)


def render_view(path: Path, view: int, camera: Camera) -> torch.Tensor:
    """(4, H, W) RGB-D frame ``view`` of the mesh file ``path`` (see the module docstring)."""
    v, f, n = scene(*read_mesh(Path(path)))
    return render(v, f, n, *view_pose(Path(path).name, view), camera)


def read_frame(path: Path, camera: Camera) -> torch.Tensor:
    """A (4, H, W) frame from an ``.npz`` with ``rgb`` (H, W, 3) in [0, 1] or uint8, ``depth`` (H, W) in metres
    and ``K`` (3, 3), whose intrinsics must be ``camera``'s."""
    try:
        with np.load(Path(path)) as z:
            rgb, depth, k = z["rgb"], z["depth"], z["K"]
    except (OSError, ValueError, KeyError) as e:
        raise DataError(f"{path}: cannot read an RGB-D .npz with rgb, depth and K ({e})") from None
    if not np.allclose(np.asarray(k, dtype=np.float64), camera.matrix(), rtol=1e-4):
        raise DataError(f"{path}: intrinsics K differ from the model's camera {camera}")
    rgb = rgb / 255.0 if rgb.dtype == np.uint8 else rgb
    if rgb.ndim != 3 or rgb.shape[-1] != 3 or depth.shape != rgb.shape[:2]:
        raise DataError(f"{path}: expected rgb (H, W, 3) and depth (H, W), got {rgb.shape} and {depth.shape}")
    return torch.cat(
        [torch.as_tensor(rgb, dtype=torch.float32).permute(2, 0, 1), torch.as_tensor(depth)[None]]
    )


def write_frame(frame: torch.Tensor, camera: Camera, path: Path) -> None:
    """Write a (4, H, W) frame as ``.npz`` (rgb uint8, depth float32 metres, K)."""
    import io

    f = torch.as_tensor(frame).detach().cpu()
    buf = io.BytesIO()
    rgb = (f[:3].permute(1, 2, 0).clamp(0, 1) * 255).round().to(torch.uint8).numpy()
    np.savez_compressed(buf, rgb=rgb, depth=f[3].float().numpy(), K=np.asarray(camera.matrix()))
    atomic_write_bytes(Path(path), buf.getvalue())


class FrameDataset(Dataset):
    """``views`` rendered frames of each mesh file; item ``i`` is view ``i % views`` of file ``i // views``.

    A frame is a pure function of (file, view, camera) and ray casting it costs far more than a training step on
    it, so the first ``cache_frames`` frames rendered are kept in memory (a 64 px frame is 64 KiB) and later
    accesses return a copy."""

    def __init__(self, files: list[Path], camera: Camera, views: int = 4, cache_frames: int = 4096) -> None:
        if not files:
            raise DataError("no mesh files to render frames from")
        self.files, self.camera, self.views = list(files), camera, views
        self.cache_frames = cache_frames
        self._cache: dict[int, torch.Tensor] = {}

    def __len__(self) -> int:
        return len(self.files) * self.views

    def __getitem__(self, item: int | tuple[int, int]) -> torch.Tensor:
        i = item[0] if isinstance(item, tuple) else item
        frame = self._cache.get(i)
        if frame is None:
            frame = render_view(self.files[i // self.views], i % self.views, self.camera)
            if len(self._cache) < self.cache_frames:
                self._cache[i] = frame
        return frame.clone()
