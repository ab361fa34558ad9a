"""Real meshes from Debian packages (offline, cached by :func:`tokzoo.data.apt.debian_package`).

- ``glmark2``: the Stanford bunny (69,666 faces) shipped by ``glmark2-data`` (its other models are .3ds,
  which trimesh does not read);
- ``homedecor``: the 146 OBJ furniture models of ``minetest-mod-homedecor`` (low-poly, artist-made).
"""

from __future__ import annotations

from pathlib import Path

from tokzoo.core.errors import DataError
from tokzoo.data.apt import debian_package

__all__ = ["MESH_DATASETS", "mesh_files"]

MESH_DATASETS = {
    "glmark2": ("glmark2-data", "usr/share/glmark2/models", "bunny.obj"),
    "homedecor": ("minetest-mod-homedecor", "usr/share/games/minetest/mods", "**/*.obj"),
}


def mesh_files(dataset: str) -> list[Path]:
    """Sorted mesh file paths of ``dataset`` (a key of MESH_DATASETS), downloading the package once."""
    if dataset not in MESH_DATASETS:
        raise DataError(f"unknown mesh dataset {dataset!r}; choose one of {', '.join(MESH_DATASETS)}")
    package, folder, pattern = MESH_DATASETS[dataset]
    root = debian_package(package) / folder
    files = sorted(root.glob(pattern))
    if not files:
        raise DataError(f"{dataset}: no {pattern} files under {root} (package {package})")
    return files
