"""Points sampled uniformly by area on a triangle mesh, with the normal of the face each lies on.

A pure function of ``(vertices, faces, n, seed)``: faces are drawn with probability proportional to their
area, points uniformly inside them (the square-root barycentric rule), so the result does not depend on how
the surface is triangulated.
"""

from __future__ import annotations

import numpy as np

from tokzoo.core.errors import DataError

__all__ = ["sample_surface"]


def sample_surface(
    vertices: np.ndarray, faces: np.ndarray, n: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points (n, 3) and unit normals (n, 3) on the mesh; DataError for an empty or invalid mesh."""
    v = np.asarray(vertices, dtype=np.float64)
    f = np.asarray(faces)
    if v.ndim != 2 or v.shape[1] != 3 or f.ndim != 2 or f.shape[1] != 3:
        raise DataError(
            f"a mesh needs vertices (V, 3) and triangle faces (F, 3), got {v.shape} and {f.shape}"
        )
    if len(f) == 0:
        raise DataError("the mesh has no faces: nothing to sample")
    if f.min() < 0 or f.max() >= len(v):
        raise DataError(f"a face refers to a vertex outside [0, {len(v)})")
    tri = v[f.astype(np.int64)]
    if not np.isfinite(tri).all():
        raise DataError("the mesh has NaN or infinite vertices")
    cross = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    area = np.linalg.norm(cross, axis=1)
    if not area.sum() > 0:
        raise DataError("the mesh has no area: every face is degenerate")
    if type(n) is not int or n < 1:
        raise DataError(f"the number of points must be a positive integer, got {n!r}")
    rng = np.random.default_rng(seed)
    face = rng.choice(len(f), size=n, p=area / area.sum())
    r1, r2 = np.sqrt(rng.random(n)), rng.random(n)
    a, b, c = tri[face, 0], tri[face, 1], tri[face, 2]
    points = (1 - r1)[:, None] * a + (r1 * (1 - r2))[:, None] * b + (r1 * r2)[:, None] * c
    normals = cross[face] / np.maximum(area[face], 1e-300)[:, None]
    return points, normals
