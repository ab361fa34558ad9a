"""Mesh tokenizers: exact round trips, quantization bounds, reports, files, checkpoints and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

import tokzoo
from tokzoo.core.errors import ConfigError, DataError
from tokzoo.core.modality import get_modality
from tokzoo.core.protocols import unsupported
from tokzoo.mesh import QuantizedMesh, quantize_mesh, read_mesh
from tokzoo.mesh.adjacent import AdjacentSerialization
from tokzoo.mesh.coords import BlockCoder

NAMES = tokzoo.list(modality="mesh")
SERIALIZATIONS = ["naive", "amt", "bpt", "nautilus"]


def primitives() -> dict[str, trimesh.Trimesh]:
    two = trimesh.util.concatenate(
        [trimesh.creation.box(), trimesh.creation.icosphere(1).apply_translation([3, 0, 0])]
    )
    return {
        "box": trimesh.creation.box(extents=[1, 2, 3]),
        "icosphere": trimesh.creation.icosphere(subdivisions=2),
        "cylinder": trimesh.creation.cylinder(radius=1, height=2, sections=24),
        "torus": trimesh.creation.torus(1.0, 0.3),
        "two_parts": two,
    }


def test_registry_lists_one_tokenizer_per_serialization():
    assert NAMES == ["mesh-amt-q7", "mesh-bpt-q7", "mesh-naive-q7", "mesh-nautilus-q7"]
    assert {tokzoo.create(n).cfg.serialization for n in NAMES} == set(SERIALIZATIONS)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("bits", [7, 10])
def test_primitives_round_trip_exactly(name, bits):
    tok = tokzoo.create(name, bits=bits)
    meshes = list(primitives().values())
    tokens = tok.encode(meshes)
    assert tokens.batch_size == len(meshes) and tokens.layout == "seq1d"
    restored = tokzoo.Tokens.from_bytes(tokens.to_bytes())  # through the bit-packed .tok container
    for mesh, decoded in zip(meshes, tok.decode(restored), strict=True):
        expected, _ = tok.quantize(mesh)
        assert decoded.same_triangles(expected)
        np.testing.assert_allclose(decoded.world_vertices(), expected.world_vertices())


def test_known_token_counts_on_a_box():
    box = trimesh.creation.box()  # 8 vertices, 12 faces, closed and consistently oriented
    counts = {s: tokzoo.create(f"mesh-{s}-q7").encode(box).num_tokens for s in SERIALIZATIONS}
    assert counts["naive"] == 12 * 9
    # one strip of 11 faces (13 vertices, 2 swaps), a restart, one lone face
    assert counts["amt"] == 13 * 3 + 2 + 1 + 9
    assert counts["bpt"] < counts["amt"] and counts["nautilus"] <= counts["bpt"]


def test_adjacent_strip_is_one_vertex_per_face():
    # a strip of 4 faces over 6 vertices, consistently oriented: one strip, 3 + 3 vertices, no restart
    v = np.array([[0, 0, 0], [0, 1, 0], [1, 0, 0], [1, 1, 0], [2, 0, 0], [2, 1, 0]])
    f = np.array([[0, 1, 2], [2, 1, 3], [2, 3, 4], [4, 3, 5]])
    mesh = QuantizedMesh.from_arrays(v, f, 7)
    ser = AdjacentSerialization(7)
    ids = ser.encode(mesh)
    assert len(ids) == 6 * 3 and ser.restart not in ids
    assert ser.decode(ids).same_triangles(mesh)


def test_orientation_is_kept_and_flipped_faces_are_not_merged():
    v = np.array([[0, 0, 0], [5, 0, 0], [0, 5, 0]])
    both = QuantizedMesh.from_arrays(v, [[0, 1, 2], [0, 2, 1]], 7)  # a two-sided triangle
    assert both.num_faces == 2
    for s in SERIALIZATIONS:
        tok = tokzoo.create(f"mesh-{s}-q7")
        one = tok.decode(tok.encode(QuantizedMesh.from_arrays(v, [[0, 2, 1]], 7)))[0]
        assert one.faces.tolist() == [[0, 2, 1]]  # canonical: rotated, never reversed
        assert tok.decode(tok.encode(both))[0].same_triangles(both)


@pytest.mark.parametrize("bits", [7, 8, 9, 10])
def test_quantization_error_is_at_most_half_a_grid_step(bits):
    rng = np.random.default_rng(bits)
    v = rng.normal(size=(300, 3)) * [5, 1, 0.1] + 40
    f = rng.integers(0, 300, size=(500, 3))
    f = f[(f[:, 0] != f[:, 1]) & (f[:, 1] != f[:, 2]) & (f[:, 0] != f[:, 2])]
    mesh, report = quantize_mesh(v, f, bits)
    half_step = 0.5 * report.scale / (2**bits - 1)
    assert report.max_error <= half_step * (1 + 1e-9)
    assert mesh.vertices.min() >= 0 and mesh.vertices.max() == 2**bits - 1  # longest side spans the grid
    # every kept corner lies within half a step of the original corner, in source units
    world = mesh.world_vertices()
    for face in f[:50]:
        for corner in v[face]:
            assert np.abs(world - corner).max(axis=1).min() <= half_step * (1 + 1e-9)


def test_report_counts_merges_drops_and_non_manifold_edges():
    v = np.array(
        [[0, 0, 0], [1, 0, 0], [0, 1, 0], [1e-6, 0, 0], [0, 0, 1], [0.5, 0.5, 0.5], [9, 9, 9], [0, -1, 0]],
        float,
    )
    f = np.array(
        [
            [0, 1, 2],  # kept
            [3, 1, 2],  # vertex 3 merges into 0: the same face again (duplicate)
            [0, 3, 4],  # 0 and 3 merge: degenerate
            [0, 1, 4],  # kept; edge 0-1 now has three faces with the next one
            [1, 0, 7],  # kept
        ]
    )
    mesh, r = quantize_mesh(v, f, 7, name="toy")
    assert (r.input_vertices, r.input_faces) == (8, 5)
    assert r.merged_vertices == 1 and r.unused_vertices == 2 and r.degenerate_faces == 1
    assert r.duplicate_faces == 1 and r.faces == 3 == mesh.num_faces and r.vertices == 5
    assert r.non_manifold_edges == 1 and r.changed


def test_save_load_checkpoint(tmp_path):
    mesh = trimesh.creation.icosphere(2)
    for name in NAMES:
        tok = tokzoo.create(name, bits=8, cache_size=16)
        loaded = tokzoo.load(tok.save_pretrained(tmp_path / name))
        assert loaded.cfg == tok.cfg and loaded.registry_name == name
        assert loaded.encode(mesh).equal(tok.encode(mesh))


@pytest.mark.parametrize("suffix", [".obj", ".ply"])
def test_file_hooks_write_what_they_read(tmp_path, suffix):
    src = tmp_path / "cyl.stl"
    src.write_bytes(
        trimesh.exchange.export.export_mesh(trimesh.creation.cylinder(1, 3, sections=10), None, "stl")
    )
    tok = tokzoo.create("mesh-nautilus-q7")
    assert get_modality(tok.modality).suffixes == (".obj", ".ply", ".stl", ".off")
    batch = tok.load_file(src)
    decoded = tok.decode(tok.encode(batch))[0]
    out = tmp_path / f"rec{suffix}"
    tok.save_file(decoded, out)
    back = read_mesh(out)
    np.testing.assert_allclose(
        np.sort(back.vertices, axis=0), np.sort(decoded.world_vertices(), axis=0), atol=1e-6
    )
    # the written file re-tokenizes to the same grid mesh
    assert tok.decode(tok.encode(back))[0].same_triangles(decoded)


def test_cli_encode_decode(tmp_path, capsys):
    from tokzoo.cli import main

    tokzoo.create("mesh-amt-q7").save_pretrained(tmp_path / "model")
    src = tmp_path / "box.off"
    src.write_text(trimesh.exchange.export.export_mesh(trimesh.creation.box(), None, "off"))
    assert main(["encode", "--model", str(tmp_path / "model"), str(src)]) in (0, None)
    assert main(["decode", "--model", str(tmp_path / "model"), str(tmp_path / "box.tok")]) in (0, None)
    rec = read_mesh(tmp_path / "box_rec.obj")
    assert len(rec.faces) == 12
    np.testing.assert_allclose(rec.vertices.min(axis=0), [-0.5] * 3, atol=1e-6)


@pytest.mark.parametrize(
    ("content", "suffix", "match"),
    [
        (b"", ".obj", "no triangle faces"),
        (b"v 0 0 0\nv 1 0 0\nv 0 1 0\n", ".obj", "no triangle faces"),
        (b"ply\nformat ascii 1.0\nelement vertex 9999\nend_header\n1 2", ".ply", "truncated ASCII PLY"),
        (b"OFF\n3 1 0\n0 0 0\n1 0 0\n", ".off", "cannot read|no triangle faces"),
        (b"solid x\n facet normal 0 0 1\n", ".stl", "cannot read|no triangle faces"),
        (b"\x00\x01", ".3ds", "unsupported mesh format"),
    ],
)
def test_unreadable_files_name_the_file(tmp_path, content, suffix, match):
    path = tmp_path / f"bad{suffix}"
    path.write_bytes(content)
    with pytest.raises(DataError, match=match) as err:
        tokzoo.create("mesh-amt-q7").load_file(path)
    assert "bad" + suffix in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        read_mesh(tmp_path / "nope.obj")


@pytest.mark.parametrize(
    ("vertices", "faces", "match"),
    [
        (np.zeros((3, 3)), np.zeros((0, 3), int), "no faces"),
        (np.array([[0, 0, 0], [np.nan, 0, 0], [0, 1, 0]]), [[0, 1, 2]], "NaN"),
        (np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]]), [[0, 1, 5]], "refers to vertex 5"),
        (np.ones((3, 3)), [[0, 1, 2]], "one point"),
        (np.array([[0, 0, 0], [1e-9, 0, 0], [1, 0, 0]]), [[0, 1, 2]], "degenerate"),
        (np.zeros((4, 3)), [[0, 1, 2, 3]], "triangles"),
    ],
)
def test_bad_meshes_are_clear_errors(vertices, faces, match):
    with pytest.raises(DataError, match=match):
        tokzoo.create("mesh-bpt-q7").encode([(vertices, faces)])


def test_grid_meshes_are_checked():
    with pytest.raises(DataError, match=r"\[0, 128\)"):
        QuantizedMesh.from_arrays([[0, 0, 0], [128, 0, 0], [0, 1, 0]], [[0, 1, 2]], 7)
    with pytest.raises(DataError, match="degenerate"):
        QuantizedMesh.from_arrays([[0, 0, 0], [0, 0, 0], [0, 1, 0]], [[0, 1, 2]], 7)
    with pytest.raises(DataError, match="outside"):
        QuantizedMesh.from_arrays([[0, 0, 0], [1, 0, 0], [0, 1, 0]], [[0, 1, 3]], 7)
    with pytest.raises(DataError, match="quantized to 8 bits"):
        tokzoo.create("mesh-amt-q7").encode(
            QuantizedMesh.from_arrays([[0, 0, 0], [1, 0, 0], [0, 1, 0]], [[0, 1, 2]], 8)
        )


def test_huge_mesh_is_refused_before_any_work():
    import time

    v = np.zeros((3, 3))
    faces = np.zeros((2_000_000, 3), dtype=np.int64)
    start = time.perf_counter()
    with pytest.raises(DataError, match="2,000,000 faces is more than max_faces=200,000"):
        tokzoo.create("mesh-amt-q7").encode([(v, faces)])
    assert time.perf_counter() - start < 5


def test_options_are_checked():
    with pytest.raises(ConfigError, match="bits"):
        tokzoo.create("mesh-amt-q7", bits=6)
    with pytest.raises(ConfigError, match="block_bits"):
        tokzoo.create("mesh-bpt-q7", block_bits=7)
    with pytest.raises(ConfigError, match=r"mesh-bpt-q7: unknown option 'levels'"):
        tokzoo.create("mesh-bpt-q7", levels=3)
    with pytest.raises(ConfigError, match="num_tokens"):
        tokzoo.create("mesh-bpt-q7").encode(trimesh.creation.box(), num_tokens=10)
    assert unsupported(tokzoo.create("mesh-bpt-q7"), "train") == (
        "mesh-bpt-q7 has nothing to learn: neither tokzoo train nor tokzoo fit applies to it"
    )


def test_decode_checks_vocabulary_and_serialization():
    tokens = tokzoo.create("mesh-amt-q7").encode(trimesh.creation.box())
    with pytest.raises(DataError, match="vocabulary"):
        tokzoo.create("mesh-amt-q7", bits=8).decode(tokens)
    tokens.meta["serialization"] = "bpt"
    with pytest.raises(DataError, match="serialization"):
        tokzoo.create("mesh-amt-q7").decode(tokens)


def test_block_coder_round_trip():
    coder = BlockCoder(9, 4)
    v = np.random.default_rng(0).integers(0, 512, size=(200, 3))
    blocks, offsets = coder.split(v)
    assert blocks.max() < coder.num_blocks and offsets.max() < coder.num_offsets
    assert [coder.join(b, o) for b, o in zip(blocks.tolist(), offsets.tolist(), strict=True)] == [
        tuple(p) for p in v.tolist()
    ]
    assert [coder.block_of(tuple(p)) for p in v.tolist()] == blocks.tolist()


def test_chamfer_is_zero_for_the_same_surface_and_below_half_a_step_after_quantization():
    pytest.importorskip("rtree")
    from tokzoo.mesh.chamfer import chamfer_distance

    sphere = trimesh.creation.icosphere(2)
    original = (sphere.vertices, sphere.faces)
    assert chamfer_distance(original, original, points=2000) < 1e-12
    for bits in (7, 10):
        mesh, report = quantize_mesh(*original, bits)
        d = chamfer_distance(original, (mesh.world_vertices(), mesh.faces), points=2000)
        assert 0 < d <= 0.5 * report.scale / (2**bits - 1)
    moved = (sphere.vertices + np.array([0, 0, 0.1]), sphere.faces)
    assert chamfer_distance(original, moved, points=2000) > 0.01


def test_nan_vertex_in_a_file_names_the_file(tmp_path):
    path = tmp_path / "nan.obj"
    path.write_text("v 0 0 0\nv nan 0 0\nv 0 1 0\nv 1 1 0\nf 1 2 3\nf 1 3 4\n")
    tok = tokzoo.create("mesh-amt-q7")
    with pytest.raises(DataError, match=r"nan\.obj: 1 vertices used by faces have NaN"):
        tok.encode(tok.load_file(path))


@pytest.mark.slow
def test_two_million_face_file_is_refused_quickly(tmp_path):
    import time

    n_faces, grid = 2_000_000, 1001  # a 1001 x 1001 vertex sheet, two triangles per cell
    xs, ys = np.meshgrid(np.arange(grid, dtype=np.float32), np.arange(grid, dtype=np.float32))
    verts = np.stack([xs.ravel(), ys.ravel(), np.zeros(grid * grid, np.float32)], axis=1)
    i = (np.arange(grid - 1)[:, None] * grid + np.arange(grid - 1)[None, :]).ravel()
    tri = np.concatenate([np.stack([i, i + 1, i + grid], 1), np.stack([i + 1, i + grid + 1, i + grid], 1)])
    assert len(tri) == n_faces
    faces = np.zeros(n_faces, dtype=[("n", "u1"), ("v", "<i4", (3,))])
    faces["n"], faces["v"] = 3, tri
    header = (
        f"ply\nformat binary_little_endian 1.0\nelement vertex {len(verts)}\nproperty float x\n"
        f"property float y\nproperty float z\nelement face {n_faces}\n"
        "property list uchar int vertex_indices\nend_header\n"
    )
    path = tmp_path / "huge.ply"
    path.write_bytes(header.encode() + verts.astype("<f4").tobytes() + faces.tobytes())
    tok = tokzoo.create("mesh-bpt-q7")
    start = time.perf_counter()
    with pytest.raises(DataError, match=r"huge\.ply: 2,000,000 faces is more than max_faces"):
        tok.encode(tok.load_file(path))
    assert time.perf_counter() - start < 120


def test_docs_example_runs(tmp_path, monkeypatch):
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parent.parent / "docs" / "mesh.md").read_text()
    (block,) = re.findall(r"```python\n(.*?)```", doc, re.S)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bunny.obj").write_text(
        trimesh.exchange.export.export_mesh(trimesh.creation.icosphere(2), None, "obj")
    )
    exec(compile(block, "docs/mesh.md", "exec"), {})
    assert read_mesh(tmp_path / "bunny_rec.ply").faces.shape == (320, 3)
