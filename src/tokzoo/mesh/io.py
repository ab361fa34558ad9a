"""Reading OBJ/PLY/STL/OFF files with ``trimesh`` (MIT) and writing OBJ/PLY; errors name the file."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tokzoo.core.atomic import atomic_write_bytes
from tokzoo.core.errors import DataError
from tokzoo.core.limits import check_limit
from tokzoo.mesh.bounds import check_mesh_bytes
from tokzoo.mesh.mesh import QuantizedMesh

__all__ = ["READ_SUFFIXES", "WRITE_SUFFIXES", "RawMesh", "read_mesh", "write_mesh"]

READ_SUFFIXES = (".obj", ".ply", ".stl", ".off")
WRITE_SUFFIXES = (".obj", ".ply")


@dataclass(eq=False)
class RawMesh:
    """A float triangle mesh as read from a file: ``vertices`` (V, 3), ``faces`` (F, 3) and its name."""

    vertices: np.ndarray
    faces: np.ndarray
    name: str = "mesh"


def read_mesh(path: str | Path) -> RawMesh:
    """Read one mesh file (all objects of a multi-object file are joined); DataError naming the file."""
    import trimesh

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in READ_SUFFIXES:
        raise DataError(
            f"{path}: unsupported mesh format {suffix or '(no suffix)'}; reads {', '.join(READ_SUFFIXES)}"
        )
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        check_limit(path, "mesh_bytes", path.stat().st_size, "file size in bytes")
        data = path.read_bytes()
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e.strerror or e})") from None
    check_mesh_bytes(path, data)  # declared counts against the file length and the limits, before parsing
    options = {"skip_materials": True} if suffix == ".obj" else {}
    logging.getLogger("trimesh").setLevel(logging.ERROR)
    try:
        loaded = trimesh.load(io.BytesIO(data), file_type=suffix[1:], force="mesh", process=False, **options)
        vertices = np.asarray(loaded.vertices, dtype=np.float64)
        faces = np.asarray(loaded.faces, dtype=np.int64)
    except Exception as e:  # trimesh's parsers raise many unrelated types on malformed files
        raise DataError(f"{path}: cannot read as {suffix[1:].upper()} ({type(e).__name__}: {e})") from None
    if faces.ndim != 2 or faces.shape[1] != 3 or len(faces) == 0:
        raise DataError(f"{path}: the file holds no triangle faces")
    return RawMesh(vertices, faces, path.name)


def write_mesh(mesh: QuantizedMesh, path: str | Path) -> Path:
    """Write ``mesh`` in its source units as OBJ (text) or binary PLY, chosen by the suffix (atomic write)."""
    import trimesh

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in WRITE_SUFFIXES:
        raise DataError(
            f"{path}: cannot write {suffix or 'a file without suffix'}; writes {', '.join(WRITE_SUFFIXES)}"
        )
    out = trimesh.Trimesh(mesh.world_vertices(), mesh.faces, process=False)
    data = trimesh.exchange.export.export_mesh(out, None, file_type=suffix[1:])
    atomic_write_bytes(path, data.encode("utf-8") if isinstance(data, str) else data)
    return path
