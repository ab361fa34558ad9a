"""The mesh context model: exact round trips through .tokc files, causality, size accounting, bad input."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokzoo.core.errors import DataError, TokFormatError
from tokzoo.core.tokens import Tokens
from tokzoo.mesh import MeshConfig, QuantizedMesh, build_serialization
from tokzoo.mesh.context_model import MeshContextModel
from tokzoo.prior.container import coded_size, compress, decompress, header_size
from tokzoo.prior.frequencies import ideal_bits

NAMES = ("naive", "amt", "bpt", "nautilus")
SERS = {n: build_serialization(MeshConfig(serialization=n, bits=7, cache_size=8)) for n in NAMES}
FAST = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _tokens(seqs: list[np.ndarray], vocab: int) -> Tokens:
    width = max(len(s) for s in seqs)
    ids = torch.zeros((len(seqs), width), dtype=torch.int64)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.as_tensor(s)
    return Tokens(ids, torch.tensor([len(s) for s in seqs]), vocab, "seq1d", (width,))


def _sphere(subdiv: int = 2, bits: int = 7, shift: float = 0.0) -> QuantizedMesh:
    import trimesh

    m = trimesh.creation.icosphere(subdivisions=subdiv)
    q = np.round((m.vertices * (0.9 + shift) + 1) / 2 * (2**bits - 1)).astype(np.int64)
    return QuantizedMesh.from_arrays(q, m.faces, bits)


@st.composite
def soups(draw) -> QuantizedMesh:
    """Random triangle soups: shared edges, non-manifold fans, both orientations, separate parts."""
    n = draw(st.integers(3, 12))
    span = draw(st.sampled_from([4, 20, 128]))
    coords = draw(st.lists(st.tuples(*[st.integers(0, span - 1)] * 3), min_size=n, max_size=n, unique=True))
    triple = st.lists(st.integers(0, n - 1), min_size=3, max_size=3, unique=True)
    return QuantizedMesh.from_arrays(
        np.array(coords), np.array(draw(st.lists(triple, min_size=1, max_size=30))), 7
    )


@FAST
@given(train=soups(), test=st.lists(soups(), min_size=1, max_size=3))
def test_round_trip_on_random_soups(train, test):
    for name, ser in SERS.items():
        model = MeshContextModel(ser).fit([ser.encode(train)])
        tokens = _tokens([ser.encode(m) for m in test], ser.vocab_size)
        data, _ = compress(tokens, model)
        back = decompress(data, model)
        assert back.equal(tokens), name
        assert [ser.decode(back.sample(i).numpy()).same_triangles(m) for i, m in enumerate(test)] == [
            True
        ] * len(test)


@pytest.mark.parametrize("name", NAMES)
def test_sphere_round_trip_size_and_gain(name):
    ser = SERS[name]
    model = MeshContextModel(ser).fit([ser.encode(_sphere(1, shift=0.05))])
    mesh = _sphere(1)
    tokens = _tokens([ser.encode(mesh)], ser.vocab_size)
    data, bits = compress(tokens, model)
    assert decompress(data, model).equal(tokens)
    header = header_size(data)
    assert len(data) == coded_size(header, bits)  # exact file size accounting
    # a closed manifold sphere: far below fixed-width tokens, and well below 20 bits per face whatever the order
    assert bits < 0.5 * tokens.nbits(), (bits, tokens.nbits())
    assert bits / mesh.num_faces < 20


@pytest.mark.parametrize("name", NAMES)
def test_causal_and_model_unchanged_by_coding(name):
    ser = SERS[name]
    model = MeshContextModel(ser).fit([ser.encode(_sphere(1, shift=0.1))])
    x = ser.encode(_sphere(1)).tolist()
    rng = np.random.default_rng(0)
    for t in rng.choice(len(x), 5, replace=False).tolist():
        y = list(x)
        y[t] = (y[t] + 1 + int(rng.integers(ser.vocab_size - 1))) % ser.vocab_size
        a, b = model.for_sample("seq1d", (), len(x)), model.for_sample("seq1d", (), len(y))
        for k in range(t + 1):  # frequencies of tokens 0..t are computed before token t is seen
            assert np.array_equal(a.frequencies(), b.frequencies()), (t, k)
            a.update(x[k])
            if k < t:
                b.update(y[k])
    # coding a mesh left the fitted model as it was: a second sample starts from the same frequencies
    first = model.for_sample("seq1d", (), len(x)).frequencies()
    compress(_tokens([np.array(x)], ser.vocab_size), model)
    assert np.array_equal(model.for_sample("seq1d", (), len(x)).frequencies(), first)


def test_code_length_matches_model_probabilities():
    ser = SERS["nautilus"]
    model = MeshContextModel(ser).fit([ser.encode(_sphere(1, shift=0.1))])
    x = ser.encode(_sphere(1)).tolist()
    stream, ideal = model.for_sample("seq1d", (), len(x)), 0.0
    for s in x:
        ideal += ideal_bits(stream.frequencies(), s)
        stream.update(s)
    _, bits = compress(_tokens([np.array(x)], ser.vocab_size), model)
    assert ideal <= bits <= ideal + 2 + 1e-5 * len(x)


def test_bad_input():
    amt, nautilus = SERS["amt"], SERS["nautilus"]
    model = MeshContextModel(amt)
    with pytest.raises(DataError, match="token 0"):  # a restart before any face
        compress(_tokens([np.array([amt.restart, 1, 2])], amt.vocab_size), model)
    with pytest.raises(DataError, match="training sequence 1: token 0"):
        model.fit([amt.encode(_sphere(1)), np.array([amt.swap])])
    with pytest.raises(DataError, match="token 0"):  # a ring reference before any centre
        compress(_tokens([np.array([nautilus.ref0, 3])], nautilus.vocab_size), MeshContextModel(nautilus))
    with pytest.raises(DataError, match="outside the vocabulary"):
        MeshContextModel(nautilus).fit([np.array([nautilus.vocab_size])])
    with pytest.raises(ValueError, match="seq1d"):
        model.for_sample("grid2d", (4, 4), 16)
    with pytest.raises(ValueError, match="no context model"):
        MeshContextModel(object())
    data, _ = compress(_tokens([amt.encode(_sphere(1))], amt.vocab_size), model)
    with pytest.raises(TokFormatError, match="coded with model"):
        decompress(data, MeshContextModel(amt, name="other"))


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("apt-get") is None, reason="needs apt-get for the Debian data")
def test_real_meshes_round_trip():
    import tokzoo
    from tokzoo.mesh import read_mesh
    from tokzoo.mesh.data import mesh_files

    paths = mesh_files("homedecor")
    for name in ("amt", "nautilus"):
        tok = tokzoo.create(f"mesh-{name}-q7", bits=8)
        seqs = [tok.serialization.encode(tok.quantize(read_mesh(p))[0]) for p in paths[1:40:13]]
        model = MeshContextModel(tok.serialization).fit(seqs[1:])
        tokens = _tokens(seqs[:1], tok.vocab_size)
        data, bits = compress(tokens, model)
        assert decompress(data, model).equal(tokens), name
        assert bits < 0.6 * tokens.nbits(), name


@pytest.mark.parametrize("name", NAMES)
def test_saved_model_decodes_without_the_training_meshes(tmp_path, name):
    ser = SERS[name]
    model = MeshContextModel(ser).fit(
        [ser.encode(_sphere(1, shift=0.05)), ser.encode(_sphere(2, shift=-0.1))]
    )
    model.save(tmp_path / "ctx")
    loaded = MeshContextModel.load(tmp_path / "ctx")
    assert (loaded.name, loaded.serialization.vocab_size) == (model.name, ser.vocab_size)
    tokens = _tokens([ser.encode(_sphere(1)), ser.encode(_sphere(2, shift=0.02))], ser.vocab_size)
    data, _ = compress(tokens, model)
    assert compress(tokens, loaded)[0] == data  # the same probabilities to the last bit
    assert decompress(data, loaded).equal(tokens)


def test_saved_model_errors(tmp_path):
    ser = SERS["nautilus"]
    MeshContextModel(ser).fit([ser.encode(_sphere(1))]).save(tmp_path / "ctx")
    with pytest.raises(DataError, match=r"stats\.safetensors missing"):
        (tmp_path / "ctx" / "stats.safetensors").rename(tmp_path / "moved")
        MeshContextModel.load(tmp_path / "ctx")
    (tmp_path / "moved").rename(tmp_path / "ctx" / "stats.safetensors")
    doc = (tmp_path / "ctx" / "context.json").read_text()
    (tmp_path / "ctx" / "context.json").write_text(doc.replace('"cache_size": 8', '"cache_size": 9'))
    with pytest.raises(DataError, match=r"bad serialization.*vocabulary"):
        MeshContextModel.load(tmp_path / "ctx")
    (tmp_path / "ctx" / "context.json").write_text(doc[:50])
    with pytest.raises(DataError, match="damaged mesh context model"):
        MeshContextModel.load(tmp_path / "ctx")
    (tmp_path / "ctx" / "stats.safetensors").write_bytes(b"\x00" * 9)
    with pytest.raises(DataError, match="damaged"):
        MeshContextModel.load(tmp_path / "ctx")


def test_cli_compress_decompress_with_a_saved_context_model(tmp_path, capsys):
    import tokzoo
    from tokzoo.cli import main

    tok = tokzoo.create("mesh-nautilus-q7")
    ser = tok.serialization
    MeshContextModel(ser).fit([ser.encode(_sphere(2, shift=-0.1))]).save(tmp_path / "ctx")
    m = _sphere(2)
    tokens = tok.encode([(m.vertices.astype(np.float64), m.faces)])
    tokens.save(tmp_path / "s.tok")
    capsys.readouterr()
    assert main(["compress", str(tmp_path / "s.tok"), "--model", str(tmp_path / "ctx")]) == 0
    row = json.loads(capsys.readouterr().out)
    assert (
        row["payload_bits"] < 0.5 * tokens.nbits()
        and row["file_bytes"] == (tmp_path / "s.tokc").stat().st_size
    )
    assert main(["decompress", str(tmp_path / "s.tokc"), "--model", str(tmp_path / "ctx"), "--out",
                 str(tmp_path / "back")]) == 0  # fmt: skip
    back = Tokens.load(tmp_path / "back" / "s.tok")
    assert back.equal(tokens) and back.meta["scales"] == tokens.meta["scales"]
    capsys.readouterr()
    (tmp_path / "bad.tokc").write_bytes(b"TOKC\x02junk")
    assert main(["decompress", str(tmp_path / "bad.tokc"), "--model", str(tmp_path / "ctx")]) == 2
    assert "bad.tokc:" in capsys.readouterr().err
