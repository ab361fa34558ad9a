"""Real meshes from Debian packages: exact round trips and the compression the papers report."""

from __future__ import annotations

import shutil

import pytest

import tokzoo
from tokzoo.mesh import read_mesh
from tokzoo.mesh.data import mesh_files

pytestmark = pytest.mark.skipif(shutil.which("apt-get") is None, reason="needs apt-get for the Debian data")
SERIALIZATIONS = ["naive", "amt", "bpt", "nautilus"]


def _round_trip_counts(paths, bits=7) -> dict[str, int]:
    """Total tokens per serialization over ``paths``, asserting every round trip is exact."""
    toks = {s: tokzoo.create(f"mesh-{s}-q7", bits=bits) for s in SERIALIZATIONS}
    totals = dict.fromkeys(SERIALIZATIONS, 0)
    for path in paths:
        raw = read_mesh(path)
        expected, _ = toks["naive"].quantize(raw)
        for s, tok in toks.items():
            tokens = tokzoo.Tokens.from_bytes(tok.encode(raw).to_bytes())
            assert tok.decode(tokens)[0].same_triangles(expected), (path.name, s)
            totals[s] += tokens.num_tokens
    return totals


def test_homedecor_sample_round_trips_and_compresses():
    paths = mesh_files("homedecor")[::15]  # 10 of the 146 models
    totals = _round_trip_counts(paths)
    assert totals["amt"] <= 0.55 * totals["naive"]
    assert totals["bpt"] <= 0.33 * totals["naive"]
    assert totals["nautilus"] <= totals["bpt"]


@pytest.mark.slow
@pytest.mark.parametrize("bits", [7, 10])
def test_all_real_models_round_trip_and_meet_the_targets(bits):
    paths = mesh_files("homedecor")
    assert len(paths) == 146
    totals = _round_trip_counts(paths, bits)
    if bits == 7:
        assert totals["amt"] <= 0.5 * totals["naive"]
        assert totals["bpt"] <= 0.3 * totals["naive"]


@pytest.mark.slow
def test_bunny_round_trips():
    (bunny,) = mesh_files("glmark2")
    totals = _round_trip_counts([bunny])
    assert totals["bpt"] <= 0.3 * totals["naive"]
