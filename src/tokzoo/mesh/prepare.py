"""From a float triangle mesh to a :class:`QuantizedMesh`: normalise, quantize, clean, and say what changed.

The mesh's bounding box is scaled so that its longest side spans [0, 1] and centred in the unit cube up
to a whole grid step, so that the grid passes through its minimum corner (on models built on a regular
lattice, like most artist-made ones, many vertices then fall exactly on the grid). The frame is canonical:
along each axis the box spans ``E = rint(extent / step)`` grid steps and starts at step ``(levels - E) // 2``
(integer arithmetic, no half-step ties), and it is computed from the vertices of the faces that survive
cleaning (re-quantizing until no more faces drop). So the decoded mesh, written in source units and read back,
has the same frame up to float rounding far below half a step, and re-encoding it gives the same tokens. Each coordinate is
rounded to the nearest of ``2**bits`` levels ``k / (2**bits - 1)``, so the quantization error is at most
half a grid step (``0.5 / (2**bits - 1)`` of the longest side). Vertices that land on the same grid point
are merged, faces that lose a corner by that merge (degenerate) are dropped, as are repeated faces and
unused vertices. Non-manifold edges are kept (every serialization handles triangle soups) and counted in
the report.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from tokzoo.core.errors import ConfigError, DataError
from tokzoo.mesh.mesh import QuantizedMesh, canonicalize

__all__ = ["MAX_BITS", "MIN_BITS", "MeshReport", "check_bits", "quantize_mesh"]

MIN_BITS, MAX_BITS = 7, 10


@dataclass(frozen=True)
class MeshReport:
    """What :func:`quantize_mesh` changed in one mesh (counts refer to the input unless named otherwise)."""

    name: str
    bits: int
    input_vertices: int
    input_faces: int
    vertices: int  # after quantization and merging
    faces: int  # after dropping degenerate and repeated faces
    merged_vertices: int  # input vertices that now share a grid point with another one
    unused_vertices: int  # input vertices no face refers to (dropped)
    degenerate_faces: int  # faces with two corners on one grid point (dropped)
    duplicate_faces: int  # faces repeating another face after quantization (dropped)
    non_manifold_edges: int  # edges with more than two faces (kept)
    max_error: float  # largest |quantized - original| coordinate, in the source's units
    scale: float  # longest side of the bounding box, in the source's units

    @property
    def changed(self) -> bool:
        """Whether anything besides rounding happened (merges, dropped faces or vertices)."""
        return bool(
            self.merged_vertices or self.unused_vertices or self.degenerate_faces or self.duplicate_faces
        )

    def as_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        """One readable line: what quantization kept, merged and dropped, and the largest error."""
        dropped = [
            f"{n:,} {what}"
            for n, what in [
                (self.degenerate_faces, "degenerate"),
                (self.duplicate_faces, "duplicate"),
            ]
            if n
        ]
        faces = f"{self.input_faces:,} -> {self.faces:,} faces" + (
            f" ({', '.join(dropped)} dropped)" if dropped else ""
        )
        removed = [
            f"{n:,} {what}"
            for n, what in [(self.merged_vertices, "merged"), (self.unused_vertices, "unused")]
            if n
        ]
        vertices = f"{self.input_vertices:,} -> {self.vertices:,} vertices" + (
            f" ({', '.join(removed)})" if removed else ""
        )
        return (
            f"{self.name}: {self.bits}-bit grid, {vertices}, {faces}, "
            f"{self.non_manifold_edges:,} non-manifold edges kept, max error {self.max_error:.3g} "
            f"({self.max_error / self.scale:.2%} of the longest side {self.scale:.4g})"
        )


def check_bits(bits: int) -> int:
    """``bits`` if it is an int in [MIN_BITS, MAX_BITS], else ConfigError."""
    if type(bits) is not int or not MIN_BITS <= bits <= MAX_BITS:
        raise ConfigError(
            f"mesh quantization bits must be an integer in [{MIN_BITS}, {MAX_BITS}], got {bits!r}"
        )
    return bits


def _check_input(vertices: object, faces: object, name: str, max_faces: int) -> tuple[np.ndarray, np.ndarray]:
    try:
        v = np.asarray(vertices, dtype=np.float64)
        f = np.asarray(faces)
    except (TypeError, ValueError) as e:
        raise DataError(f"{name}: vertices/faces are not numeric arrays ({e})") from None
    if v.ndim != 2 or v.shape[1] != 3:
        raise DataError(f"{name}: vertices must have shape (V, 3), got {v.shape}")
    if f.ndim != 2 or f.shape[1] != 3 or (f.size and not np.issubdtype(f.dtype, np.integer)):
        raise DataError(f"{name}: faces must be an integer array of shape (F, 3) (triangles), got {f.shape}")
    if len(f) == 0:
        raise DataError(f"{name}: the mesh has no faces")
    if len(f) > max_faces:
        raise DataError(
            f"{name}: {len(f):,} faces is more than max_faces={max_faces:,} "
            "(simplify the mesh or raise the tokenizer's max_faces)"
        )
    f = f.astype(np.int64)
    if f.min() < 0 or f.max() >= len(v):
        raise DataError(
            f"{name}: a face refers to vertex {int(f.max() if f.max() >= len(v) else f.min())}, "
            f"but there are {len(v)} vertices"
        )
    used = v[np.unique(f)]
    bad = ~np.isfinite(used).all(axis=1)
    if bad.any():
        raise DataError(f"{name}: {int(bad.sum())} vertices used by faces have NaN or infinite coordinates")
    return v, f


def _non_manifold_edges(faces: np.ndarray) -> int:
    edges = np.sort(np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]), axis=1)
    _, counts = np.unique(edges, axis=0, return_counts=True)
    return int((counts > 2).sum())


def _frame_and_grid(
    v: np.ndarray, f: np.ndarray, keep: np.ndarray, levels: int, name: str
) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    """The canonical frame (origin, scale) of the vertices the ``keep`` faces use, every vertex of ``f`` on
    its grid (clipped), and which of ``f`` have three distinct grid corners; DataError when none has."""
    used = np.unique(f[keep])
    lo, hi = v[used].min(axis=0), v[used].max(axis=0)
    scale = float((hi - lo).max())
    if not np.isfinite(scale) or scale <= 0:
        raise DataError(f"{name}: all vertices lie on one point; there is no surface to quantize")
    step = scale / levels
    spans = np.minimum(np.rint((hi - lo) / step), levels).astype(np.int64)
    start = (levels - spans) // 2  # centred, with the grid through the minimum corner
    origin = lo - start * step
    q = np.zeros((len(v), 3), np.int64)
    every = np.unique(f)
    q[every] = np.clip(start + np.rint((v[every] - lo) / step), 0, levels).astype(np.int64)
    gf = [q[f[:, i]] for i in range(3)]
    kept = ~((gf[0] == gf[1]).all(1) | (gf[1] == gf[2]).all(1) | (gf[2] == gf[0]).all(1))
    if not (kept & keep).any():
        raise DataError(f"{name}: every face is degenerate after quantization to {levels.bit_length()} bits")
    return origin, scale, q, kept


def quantize_mesh(
    vertices: object, faces: object, bits: int, *, name: str = "mesh", max_faces: int = 200_000
) -> tuple[QuantizedMesh, MeshReport]:
    """Normalise to the unit cube, quantize to ``bits`` per axis, clean; DataError if nothing usable is left."""
    bits = check_bits(bits)
    v, f = _check_input(vertices, faces, name, max_faces)
    levels = 2**bits - 1
    used = np.unique(f)
    keep = np.ones(len(f), bool)
    while True:  # at most a few rounds: each one only drops faces
        origin, scale, q, kept = _frame_and_grid(v, f, keep, levels, name)
        if not (keep & ~kept).any():
            break
        keep &= kept
    step = scale / levels
    surface = np.unique(f[keep])
    max_error = float(np.abs(origin + q[surface] * step - v[surface]).max())
    merged = len(used) - len(np.unique(q[used], axis=0))
    cv, cf, duplicates = canonicalize(q, f[keep])
    mesh = QuantizedMesh(cv, cf, bits, tuple(float(o) for o in origin), scale, name)
    report = MeshReport(
        name=name,
        bits=bits,
        input_vertices=len(v),
        input_faces=len(f),
        vertices=len(cv),
        faces=len(cf),
        merged_vertices=merged,
        unused_vertices=len(v) - len(used),
        degenerate_faces=int((~keep).sum()),
        duplicate_faces=duplicates,
        non_manifold_edges=_non_manifold_edges(cf),
        max_error=max_error,
        scale=scale,
    )
    return mesh, report
