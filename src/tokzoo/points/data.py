"""Point clouds of real meshes: Debian's ``minetest-mod-homedecor`` (146 OBJ furniture models) and
``glmark2-data`` (the Stanford bunny), split by model, sampled by area (:func:`~tokzoo.points.sample.sample_surface`).

``data`` strings: ``homedecor``, ``homedecor:train`` / ``homedecor:test`` (a model is in test when the first
32 bits of the SHA-256 of its file name, modulo 10, are 0: about 10 %), ``glmark2``, or a mesh / ``.xyz``
file or folder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from tokzoo.core.errors import DataError
from tokzoo.data.apt import debian_package
from tokzoo.data.files import collect_files, hash_split
from tokzoo.points.sample import sample_surface

__all__ = ["MESH_SUFFIXES", "SUFFIXES", "PointCloudDataset", "point_files", "read_mesh", "read_points"]

MESH_SUFFIXES = (".obj", ".ply", ".off", ".stl")
SUFFIXES = (".xyz", *MESH_SUFFIXES)
_DEBIAN = {
    "homedecor": ("minetest-mod-homedecor", "usr/share/games/minetest/mods", "**/*.obj"),
    "glmark2": ("glmark2-data", "usr/share/glmark2/models", "bunny.obj"),
}


def point_files(spec: str) -> list[Path]:
    """The files a ``data`` string names (see the module docstring), sorted."""
    name, _, split = spec.partition(":")
    if name in _DEBIAN:
        package, folder, pattern = _DEBIAN[name]
        files = sorted((debian_package(package) / folder).glob(pattern))
        if split:
            if split not in ("train", "test"):
                raise DataError(f"{spec}: the split must be train or test, got {split!r}")
            files = [f for f in files if hash_split(f.name) == split]
        return files
    return collect_files([spec], SUFFIXES)


def read_points(path: Path, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray | None]:
    """(points (n, 3), normals or None) of a mesh file (sampled by area) or an ``.xyz`` file (as written)."""
    path = Path(path)
    if path.suffix.lower() == ".xyz":
        try:
            pts = np.loadtxt(path, dtype=np.float64, ndmin=2)
        except (OSError, ValueError) as e:
            raise DataError(f"{path}: cannot read as .xyz ({e})") from None
        if pts.ndim != 2 or pts.shape[1] < 3 or len(pts) == 0:
            raise DataError(f"{path}: expected rows of x y z")
        return pts[:, :3], None
    v, f = read_mesh(path)
    try:
        return sample_surface(v, f, n, seed)
    except DataError as e:
        raise DataError(f"{path}: {e}") from None


def read_mesh(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(vertices (V, 3), triangle faces (F, 3)) of a mesh file, read with trimesh (materials skipped)."""
    import trimesh

    try:
        mesh = trimesh.load(path, force="mesh", process=False, skip_materials=True)
        return np.asarray(mesh.vertices), np.asarray(mesh.faces)
    except Exception as e:  # trimesh raises many types on malformed files
        raise DataError(f"{path}: cannot read as a mesh ({type(e).__name__}: {e})") from None


class PointCloudDataset(Dataset):
    """``n`` area-uniform points of each file, normalised later by the model; item ``(i, sample_seed)`` is a
    pure function of ``(i, sample_seed, seed)``."""

    def __init__(self, files: list[Path], n: int = 1024, seed: int = 0) -> None:
        if not files:
            raise DataError("no point-cloud files to train on")
        self.files, self.n, self.seed = list(files), n, seed

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, item: int | tuple[int, int]) -> torch.Tensor:
        """Points of file ``i``; the trainer's sampler passes ``(i, sample_seed)``, a fresh sample each time."""
        i, sample_seed = item if isinstance(item, tuple) else (item, 0)
        seed = (self.seed * 1_000_003 + i) * 1_000_003 + sample_seed
        return torch.from_numpy(read_points(self.files[i], self.n, seed)[0]).float()
