"""Chamfer distance between two triangle surfaces, from points sampled uniformly by area."""

from __future__ import annotations

import numpy as np

__all__ = ["chamfer_distance"]


def chamfer_distance(
    a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray], *, points: int = 20_000, seed: int = 0
) -> float:
    """Symmetric Chamfer-L1 distance between surfaces ``a`` and ``b`` given as ``(vertices, faces)``.

    The mean nearest-neighbour distance from ``points`` samples of ``a`` to those of ``b``, plus the
    reverse, halved; in the meshes' units (divide by the bounding-box size to compare across meshes).
    """
    import trimesh
    from scipy.spatial import cKDTree

    pa, _ = trimesh.sample.sample_surface(trimesh.Trimesh(*a, process=False), points, seed=seed)
    pb, _ = trimesh.sample.sample_surface(trimesh.Trimesh(*b, process=False), points, seed=seed + 1)
    d_ab = cKDTree(pb).query(pa)[0].mean()
    d_ba = cKDTree(pa).query(pb)[0].mean()
    return float((d_ab + d_ba) / 2)
