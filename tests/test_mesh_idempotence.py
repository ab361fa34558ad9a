"""Mesh tokenizers are idempotent: ``encode(load(save(decode(t)))) == t``; OBJ in any text encoding and the OFF
variants real collections use are read."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tokzoo
from tokzoo.core.errors import DataError
from tokzoo.mesh import read_mesh

NAMES = ["mesh-naive-q7", "mesh-amt-q7", "mesh-bpt-q7", "mesh-nautilus-q7"]
TETRA = "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\nf 1 3 2\nf 1 2 4\nf 1 4 3\nf 2 3 4\n"
TETRA_OFF_FACES = "3 0 2 1\n3 0 1 3\n3 0 3 2\n3 1 2 3\n"
CORNERS = "0 0 0{x}\n1 0 0{x}\n0 1 0{x}\n0 0 1{x}\n"


def _again(tok, tokens, tmp: Path, suffix: str = ".obj"):
    out = tmp / f"decoded{suffix}"
    tok.save_file(tok.decode(tokens)[0], out)
    return tok.encode(tok.load_file(out))


def _assert_idempotent(tok, mesh, tmp: Path, suffix: str = ".obj") -> None:
    tokens = tok.encode([mesh])
    again = _again(tok, tokens, tmp, suffix)
    assert again.sample(0).tolist() == tokens.sample(0).tolist()


@pytest.mark.parametrize(
    "encoding, header",
    [("latin-1", "# modèle créé par Émile"), ("cp1252", "# chaise « Louis » €"), ("utf-16", "# стул"),
     ("shift_jis", "# 椅子のモデル"), ("utf-8-sig", "# naïve")],
)  # fmt: skip
def test_obj_in_any_text_encoding(tmp_path, encoding, header):
    path = tmp_path / "m.obj"
    path.write_bytes(f"{header}\n{TETRA}".encode(encoding))
    mesh = read_mesh(path)
    assert mesh.vertices.shape == (4, 3) and mesh.faces.shape == (4, 3)


@pytest.mark.parametrize(
    "text",
    [
        "OFF\n4 4 6\n" + CORNERS.format(x="") + TETRA_OFF_FACES,
        "# made by hand\nOFF # header\n\n# counts\n4 4 6\n" + CORNERS.format(x=" # v") + TETRA_OFF_FACES,
        "COFF\n4 4 6\n" + CORNERS.format(x=" 255 0 0 255") + TETRA_OFF_FACES,
        "NOFF\n4 4 6\n" + CORNERS.format(x=" 0 0 1") + TETRA_OFF_FACES,
        "CNOFF\n4 4 6\n" + CORNERS.format(x=" 0 0 1 0.5 0.5 0.5 1") + TETRA_OFF_FACES,
        "OFF\n4 4 6\n" + CORNERS.format(x="") + TETRA_OFF_FACES.replace("\n", " 255 0 0\n"),
        "OFF 4 4 6\n" + CORNERS.format(x="") + TETRA_OFF_FACES,
    ],
    ids=["plain", "comments", "coff", "noff", "cnoff", "face-colours", "counts-on-header-line"],
)
def test_off_variants(tmp_path, text):
    path = tmp_path / "m.off"
    path.write_text(text)
    mesh = read_mesh(path)
    assert np.array_equal(mesh.vertices, [[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    assert sorted(map(sorted, mesh.faces.tolist())) == [[0, 1, 2], [0, 1, 3], [0, 2, 3], [1, 2, 3]]


def test_off_polygons_are_triangulated(tmp_path):
    quads = "4 0 3 2 1\n4 4 5 6 7\n4 0 1 5 4\n4 1 2 6 5\n4 2 3 7 6\n4 3 0 4 7\n"
    corners = "".join(f"{x} {y} {z}\n" for z in (0, 1) for x, y in ((0, 0), (1, 0), (1, 1), (0, 1)))
    path = tmp_path / "cube.off"
    path.write_text(f"OFF\n8 6 12\n{corners}{quads}")
    mesh = read_mesh(path)
    assert mesh.faces.shape == (12, 3)
    tok = tokzoo.create("mesh-naive-q7")
    assert tok.decode(tok.encode([mesh]))[0].num_faces == 12


@pytest.mark.parametrize("name", NAMES)
def test_decode_save_load_encode_is_identity(tmp_path, name):
    tok = tokzoo.create(name)
    # off-lattice box sides and a sliver face that vanishes on the grid (it used to move the frame)
    v = np.array([[0, 0, 0], [3.3, 0, 0], [0, 1.37, 0], [0, 0, 0.71], [3.3, 1e-4, 0], [3.3, 0, 1e-4]])
    f = np.array([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3], [1, 4, 5]])
    for suffix in (".obj", ".ply"):
        _assert_idempotent(tok, (v, f), tmp_path, suffix)


def test_the_frame_comes_from_the_faces_that_survive(tmp_path):
    """A vertex only a degenerate face uses does not set the bounding box the re-read mesh will have."""
    tok = tokzoo.create("mesh-amt-q7")
    v = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1.2, 0, 0], [1.2, 1e-9, 0]])
    f = np.array([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3], [4, 5, 0]])
    tokens = tok.encode([(v, f)])
    assert tokens.meta["scales"][0] == pytest.approx(1.0)
    assert tokens.meta["reports"][0]["degenerate_faces"] == 1
    _assert_idempotent(tok, (v, f), tmp_path)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    v=st.lists(st.tuples(*[st.floats(-1e3, 1e3, allow_nan=False)] * 3), min_size=3, max_size=20),
    data=st.data(),
)  # fmt: skip
def test_idempotent_on_arbitrary_float_meshes(tmp_path, v, data):
    faces = data.draw(
        st.lists(
            st.lists(st.integers(0, len(v) - 1), min_size=3, max_size=3, unique=True), min_size=1, max_size=20
        )
    )
    tok = tokzoo.create("mesh-nautilus-q7", bits=9)
    try:
        tokens = tok.encode([(np.array(v), np.array(faces))])
    except DataError:
        return
    assert _again(tok, tokens, tmp_path).sample(0).tolist() == tokens.sample(0).tolist()


@pytest.mark.skipif(shutil.which("apt-get") is None, reason="needs apt-get for the Debian data")
def test_idempotent_on_real_models(tmp_path):
    from tokzoo.mesh.data import mesh_files

    for path in mesh_files("homedecor")[::10]:
        raw = read_mesh(path)
        for name in NAMES:
            _assert_idempotent(tokzoo.create(name), raw, tmp_path)
