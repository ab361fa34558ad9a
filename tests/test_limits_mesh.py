"""Mesh files whose declared counts the file cannot hold are refused before parsing."""

from __future__ import annotations

import pytest
import trimesh

from tokzoo.core.errors import DataError, LimitError
from tokzoo.mesh.io import read_mesh

PLY_HEAD = (
    "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\n"
    "element face {faces}\nproperty list uchar int vertex_indices\nend_header\n"
)
BODY = "0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n3 0 2 1\n"


@pytest.mark.parametrize(
    ("name", "text"),
    [("a.ply", PLY_HEAD.format(faces=1_000_000) + BODY), ("a.off", "OFF\n3 1000000 0\n" + BODY)],
)
def test_truncated_ascii_files_declaring_more_faces_are_refused(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(DataError, match=rf"{name}: truncated .*1,000,000"):
        read_mesh(path)


@pytest.mark.parametrize(
    ("name", "text"), [("a.ply", PLY_HEAD.format(faces=2) + BODY), ("a.off", "OFF\n3 2 0\n" + BODY)]
)
def test_complete_ascii_files_still_read(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    assert read_mesh(path).faces.shape == (2, 3)


def test_declared_counts_are_held_to_the_limit(tmp_path):
    path = tmp_path / "big.off"
    path.write_text("OFF\n3 10000000 0\n" + BODY)
    with pytest.raises(
        LimitError, match=r"big\.off: declared face count 10,000,000 exceeds the limit mesh_elements"
    ):
        read_mesh(path)


def test_truncated_binary_stl_is_named_as_such(tmp_path):
    data = trimesh.exchange.export.export_mesh(trimesh.creation.box(), None, file_type="stl")
    path = tmp_path / "box.stl"
    path.write_bytes(data[:-30])
    with pytest.raises(DataError, match=r"box\.stl: truncated binary STL: the header declares 12 triangles"):
        read_mesh(path)
    path.write_bytes(data[:40])
    with pytest.raises(DataError, match="shorter than its 84-byte header"):
        read_mesh(path)
    path.write_bytes(data)
    assert read_mesh(path).faces.shape == (12, 3)


def test_truncated_binary_ply_is_refused(tmp_path):
    data = trimesh.exchange.export.export_mesh(trimesh.creation.box(), None, file_type="ply")
    path = tmp_path / "box.ply"
    path.write_bytes(data[:-20])
    with pytest.raises(DataError, match="truncated binary PLY"):
        read_mesh(path)


def test_file_size_is_checked_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "big.obj"
    path.write_text("v 0 0 0\n" * 100)
    monkeypatch.setenv("TOKZOO_LIMIT_MESH_BYTES", "100")
    with pytest.raises(
        LimitError, match=r"big\.obj: file size in bytes 800 exceeds the limit mesh_bytes=100"
    ):
        read_mesh(path)
