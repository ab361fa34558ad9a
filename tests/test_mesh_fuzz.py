"""Property tests: every serialization is exact on random triangle soups; decoders refuse junk cleanly."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tokzoo
from tokzoo.core.errors import DataError, TokFormatError
from tokzoo.mesh import MeshConfig, QuantizedMesh, build_serialization

SERIALIZERS = {
    name: build_serialization(MeshConfig(serialization=name, bits=7, cache_size=8))
    for name in ("naive", "amt", "bpt", "nautilus")
}
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def soups(draw, max_vertices: int = 14, max_faces: int = 40) -> QuantizedMesh:
    """Random triangle soups on a 7-bit grid: few vertices (so faces share edges, often non-manifold),
    random orientations, disconnected parts, points spread across blocks or packed in one."""
    n = draw(st.integers(3, max_vertices))
    span = draw(st.sampled_from([4, 20, 128]))
    coords = draw(st.lists(st.tuples(*[st.integers(0, span - 1)] * 3), min_size=n, max_size=n, unique=True))
    triple = st.lists(st.integers(0, n - 1), min_size=3, max_size=3, unique=True)
    faces = draw(st.lists(triple, min_size=1, max_size=max_faces))
    return QuantizedMesh.from_arrays(np.array(coords), np.array(faces), 7)


@FAST
@given(mesh=soups())
def test_every_serialization_is_exact_on_soups(mesh):
    for ser in SERIALIZERS.values():
        assert ser.decode(ser.encode(mesh)).same_triangles(mesh), ser.name


@FAST
@given(
    v=st.lists(st.tuples(*[st.floats(-1e3, 1e3, allow_nan=False)] * 3), min_size=3, max_size=30),
    data=st.data(),
)
def test_float_meshes_through_the_tokenizer(v, data):
    faces = data.draw(
        st.lists(
            st.lists(st.integers(0, len(v) - 1), min_size=3, max_size=3, unique=True), min_size=1, max_size=30
        )
    )
    tok = tokzoo.create("mesh-nautilus-q7", bits=9)
    try:
        expected, report = tok.quantize((np.array(v), np.array(faces)))
    except DataError as e:  # a flat point set, or every face collapsing, is a documented refusal
        assert "one point" in str(e) or "degenerate" in str(e)
        return
    assert report.max_error <= 0.5 * report.scale / 511 * (1 + 1e-9)
    tokens = tokzoo.Tokens.from_bytes(tok.encode([(np.array(v), np.array(faces))]).to_bytes())
    assert tok.decode(tokens)[0].same_triangles(expected)


def _valid_or_data_error(ser, ids) -> None:
    try:
        mesh = ser.decode(np.array(ids, dtype=np.int64))
    except DataError as e:
        assert str(e).startswith(("token ", "empty token sequence")), str(e)
        return
    assert mesh.num_faces >= 1 and mesh.vertices.max() < 2**7
    assert ser.decode(ser.encode(mesh)).same_triangles(mesh)  # what a decoder returns is a valid mesh


@pytest.mark.parametrize("name", SERIALIZERS)
@FAST
@given(data=st.data())
def test_random_token_streams_decode_or_raise_data_error(name, data):
    ser = SERIALIZERS[name]
    special = list(range(2**7, ser.vocab_size, max(1, (ser.vocab_size - 2**7) // 40)))  # structure tokens
    token = st.one_of(st.integers(0, ser.vocab_size + 3), st.sampled_from(special or [0]), st.integers(-2, 0))
    _valid_or_data_error(ser, data.draw(st.lists(token, max_size=60)))


@pytest.mark.parametrize("name", SERIALIZERS)
@FAST
@given(mesh=soups(max_faces=12), data=st.data())
def test_mutated_streams_decode_or_raise_data_error(name, mesh, data):
    ser = SERIALIZERS[name]
    ids = ser.encode(mesh).tolist()
    for _ in range(data.draw(st.integers(1, 3))):
        op = data.draw(st.sampled_from(["replace", "delete", "insert", "truncate"]))
        i = data.draw(st.integers(0, max(len(ids) - 1, 0)))
        value = data.draw(st.integers(0, ser.vocab_size - 1))
        if op == "replace" and ids:
            ids[i] = value
        elif op == "delete" and ids:
            del ids[i]
        elif op == "insert":
            ids.insert(i, value)
        else:
            ids = ids[:i]
    _valid_or_data_error(ser, ids)


@FAST
@given(mesh=soups(max_faces=10), data=st.data())
def test_corrupted_tok_files_raise_documented_errors(mesh, data):
    tok = tokzoo.create("mesh-bpt-q7")
    blob = bytearray(tok.encode(mesh).to_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        blob[data.draw(st.integers(0, len(blob) - 1))] = data.draw(st.integers(0, 255))
    try:
        tokens = tokzoo.Tokens.from_bytes(bytes(blob))
        tok.decode(tokens)
    except (TokFormatError, DataError):
        pass
