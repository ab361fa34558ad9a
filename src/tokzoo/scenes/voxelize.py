"""Solid voxel occupancy of a triangle mesh at a fixed pitch, the height axis last.

Surface points are sampled by area (trimesh, seeded) densely enough that every voxel the surface crosses gets
several; those voxels are occupied, and enclosed cavities are filled (``scipy.ndimage.binary_fill_holes``), so
a closed model becomes a solid block and an open one keeps its shell.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from tokzoo.core.errors import DataError

__all__ = ["voxelize", "voxelize_file"]

#: Surface samples per voxel face area: enough that no crossed voxel is missed on thin parts.
_DENSITY = 16


def voxelize(vertices: np.ndarray, faces: np.ndarray, pitch: float, *, up: int = 1) -> np.ndarray:
    """Boolean occupancy (X, Y, Z) of the mesh at ``pitch`` units per voxel; axis ``up`` of the vertices
    becomes Z (height); the grid starts at the mesh's bounding-box minimum. DataError for empty meshes."""
    import trimesh
    from scipy.ndimage import binary_fill_holes

    v = np.asarray(vertices, dtype=np.float64)
    f = np.asarray(faces, dtype=np.int64)
    if v.ndim != 2 or v.shape[1] != 3 or f.ndim != 2 or f.shape[1] != 3 or len(f) == 0:
        raise DataError(f"a mesh needs vertices (V, 3) and faces (F, 3), got {v.shape} and {f.shape}")
    if not np.isfinite(v[f]).all():
        raise DataError("the mesh has NaN or infinite vertices")
    if not pitch > 0:
        raise DataError(f"the voxel pitch must be positive, got {pitch!r}")
    order = [a for a in range(3) if a != up] + [up]
    mesh = trimesh.Trimesh(v[:, order], f, process=False)
    if not mesh.area > 0:
        raise DataError("the mesh has no area: every face is degenerate")
    count = max(1000, int(_DENSITY * mesh.area / pitch**2))
    points, _ = trimesh.sample.sample_surface(mesh, count, seed=0)
    points = np.concatenate([points, mesh.vertices[f].mean(1), mesh.vertices[np.unique(f)]])
    used = mesh.vertices[np.unique(f)]
    lo, shape = used.min(0), np.maximum(1, np.ceil((np.ptp(used, 0) - 1e-9) / pitch).astype(np.int64))
    idx = np.clip(np.floor((points - lo) / pitch).astype(np.int64), 0, shape - 1)
    grid = np.zeros(shape, dtype=bool)
    grid[idx[:, 0], idx[:, 1], idx[:, 2]] = True
    return binary_fill_holes(grid)


@lru_cache(maxsize=4096)
def voxelize_file(path: Path, voxels_per_unit: int, turns: int) -> np.ndarray:
    """Occupancy of a Y-up model file (minetest models are) at ``voxels_per_unit``, turned ``turns`` quarter
    turns about the vertical axis; cached per process (read-only array)."""
    import trimesh

    try:
        mesh = trimesh.load(path, force="mesh", process=False, skip_materials=True)
        grid = voxelize(np.asarray(mesh.vertices), np.asarray(mesh.faces), 1.0 / voxels_per_unit)
    except DataError as e:
        raise DataError(f"{path}: {e}") from None
    except Exception as e:  # trimesh raises many types on malformed files
        raise DataError(f"{path}: cannot read as a mesh ({type(e).__name__}: {e})") from None
    out = np.ascontiguousarray(np.rot90(grid, turns % 4, axes=(0, 1)))
    out.setflags(write=False)
    return out
