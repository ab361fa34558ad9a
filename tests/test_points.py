"""Point clouds (tokzoo.points): sampling, normalisation, metrics with known values, FPS groups, the patch
tokenizer (round trip shapes, exact rate, a training step that learns), the data split, bad input."""

from __future__ import annotations

import math
import shutil

import numpy as np
import pytest
import torch

import tokzoo
from tokzoo.core.errors import ConfigError, DataError
from tokzoo.points import (
    chamfer,
    f_score,
    farthest_points,
    group,
    normal_consistency,
    normalize,
    precision_recall,
    sample_surface,
    unnormalize,
)


def _train(tok, batch: torch.Tensor, steps: int) -> tuple[dict, dict]:
    """Adam steps on one batch; the logs (with ``loss``) of the first and the last step."""
    opt = torch.optim.Adam(tok.parameters(), lr=3e-3)
    history = []
    for _ in range(steps):
        loss, logs = tok.loss(batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append({**logs, "loss": loss.item()})
    return history[0], history[-1]


CORNERS = np.array([[x, y, z] for x in (0, 1) for y in (0, 1) for z in (0, 1)], float)
QUADS = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
CUBE = np.array([t for a, b, c, d in QUADS for t in ((a, b, c), (a, c, d))])


def _sphere(n: int, radius: float = 1.0, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.nn.functional.normalize(torch.randn(n, 3, generator=g), dim=-1) * radius


def test_sampling_is_deterministic_uniform_and_on_the_surface():
    p, n = sample_surface(CORNERS, CUBE, 6000, seed=3)
    q, _ = sample_surface(CORNERS, CUBE, 6000, seed=3)
    assert np.array_equal(p, q) and not np.array_equal(p, sample_surface(CORNERS, CUBE, 6000, seed=4)[0])
    on_face = np.isclose(p, 0) | np.isclose(p, 1)
    assert on_face.any(axis=1).all()
    assert np.allclose(np.linalg.norm(n, axis=1), 1)
    counts = np.array([np.isclose(p[:, a], v).sum() for a in range(3) for v in (0, 1)])
    assert counts.min() > 850 and counts.max() < 1150  # six equal faces, 1000 each expected
    # a square split into one big and many small triangles: points follow area, not triangle count
    v = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], float)
    sq, _ = sample_surface(v, np.array([[0, 1, 2], [0, 2, 3]]), 4000, seed=0)
    assert abs((sq[:, 0] > sq[:, 1]).mean() - 0.5) < 0.04


def test_normalize_round_trip():
    p = torch.randn(2, 50, 3) * 7 + 3
    n, centre, scale = normalize(p)
    assert torch.allclose(n.norm(dim=-1).amax(1), torch.ones(2))
    assert torch.allclose(unnormalize(n, centre, scale), p, atol=1e-5)


def test_metrics_known_values():
    a, b = _sphere(4000), _sphere(4000, 1.1)  # concentric spheres 0.1 apart, same directions
    assert chamfer(a, a).item() == 0
    assert chamfer(a, b).item() == pytest.approx(0.1, abs=0.01)
    assert (
        chamfer(a, a + torch.tensor([0.3, 0, 0])).item() < 0.3
    )  # a shift: nearest points are closer than 0.3
    assert f_score(a, b, 0.05).item() == 0 and f_score(a, b, 0.15).item() == 1
    assert f_score(a, a[:2000], 1e-6).item() == pytest.approx(2 * 0.5 / 1.5)  # recall 1, precision 0.5
    precision, recall = precision_recall(a, a[:2000], 1e-6)  # half the prediction is not in the target
    assert (precision.item(), recall.item()) == (0.5, 1.0)
    assert precision_recall(a[:2000], a, 1e-6)[1].item() == 0.5  # half the target is missing
    assert normal_consistency(a, a, b, b).item() == pytest.approx(1.0, abs=1e-3)  # radial normals
    tangent = torch.linalg.cross(a, torch.tensor([0.0, 0, 1]).expand_as(a))
    assert normal_consistency(a, tangent, a, a).item() < 0.1


def test_farthest_points_and_groups():
    two = torch.cat([torch.randn(100, 3) * 0.01, torch.randn(100, 3) * 0.01 + 5])[None]
    idx = farthest_points(two, 2)[0]
    assert (idx < 100).sum() == 1 and torch.equal(farthest_points(two, 2)[0], idx)
    centres, patches = group(_sphere(512)[None], 16, 8)
    assert centres.shape == (1, 16, 3) and patches.shape == (1, 16, 8, 3)
    assert patches.norm(dim=-1).amin(-1).max() == 0  # each patch holds its centre


def test_patch_tokenizer_rate_and_shapes():
    tok = tokzoo.create("points-patch-fsq-64").eval()
    x = tok.example_input()
    tokens = tok.encode(x)
    assert tokens.ids.shape == (2, 64) and tokens.vocab_size == 2**18 * 1000
    assert tokens.nbits() == 2 * 64 * math.ceil(math.log2(2**18 * 1000))
    out = tok.decode(tokzoo.Tokens.from_bytes(tokens.to_bytes()))
    assert out[0].shape == (64 * 32, 3) and torch.isfinite(out[0]).all()
    big = [c * 100 + 5 for c in x]  # decoded in the source units
    assert (tok.decode(tok.encode(big))[0].mean(0) - 5).abs().max() < 60


# VAT's multi-scale residual tokens (msrq1d) over 16 latent tokens: sequences of 1, 2, 4, 8 and 16 ids
MULTISCALE = {"quantizer": "msrq1d", "quantizer_options": {"scales": [1, 2, 4, 8, 16], "codebook_size": 64}}


@pytest.mark.parametrize(
    "name, options",
    [
        ("points-patch-fsq-64", {}),
        ("points-vat-64", {"num_tokens": 16, "out_groups": 16, "out_size": 16}),
        ("points-vat-64", {"num_tokens": 16, "out_groups": 16, "out_size": 16, **MULTISCALE}),
    ],
    ids=["patch", "vat", "vat-multiscale"],
)
def test_a_few_training_steps_lower_the_loss(name, options):
    torch.manual_seed(0)
    tok = tokzoo.create(name, dim=64, depth=1, groups=16, group_size=16, num_points=256, **options)
    first, last = _train(tok, torch.stack([_sphere(256, seed=s) for s in range(4)]), 30)
    assert last["loss"] < 0.75 * first["loss"] and "chamfer2" in last


def test_bad_input_one_line_errors():
    tok = tokzoo.create("points-patch-fsq-64")
    nan = _sphere(1024)
    nan[5, 1] = float("nan")
    with pytest.raises(DataError, match="1 points have NaN or infinite coordinates") as e:
        tok.encode([nan])
    assert "\n" not in str(e.value)
    with pytest.raises(DataError, match="needs at least 64"):
        tok.encode([_sphere(10)])
    with pytest.raises(DataError, match="same point"):
        tok.encode([torch.zeros(100, 3)])
    with pytest.raises(DataError, match="no faces"):
        sample_surface(CORNERS, np.zeros((0, 3), int), 10)
    with pytest.raises(DataError, match="no area"):
        sample_surface(np.zeros((3, 3)), np.array([[0, 1, 2]]), 10)
    with pytest.raises(DataError, match="NaN"):
        sample_surface(np.full((3, 3), np.nan), np.array([[0, 1, 2]]), 10)


@pytest.mark.skipif(shutil.which("apt-get") is None, reason="needs apt-get for the Debian data")
def test_homedecor_split_is_by_model_and_reads():
    from tokzoo.points.data import PointCloudDataset, point_files

    train, test = point_files("homedecor:train"), point_files("homedecor:test")
    assert len(test) >= 8 and not {p.name for p in train} & {p.name for p in test}
    ds = PointCloudDataset(test[:2], 512)
    assert ds[(0, 1)].shape == (512, 3) and torch.equal(ds[(0, 1)], ds[(0, 1)])
    assert not torch.equal(ds[(0, 1)], ds[(0, 2)])


def test_vat_tokens_are_one_dimensional_and_any_bottleneck_works():
    tok = tokzoo.create("points-vat-64").eval()
    tokens = tok.encode(tok.example_input())
    assert tokens.ids.shape == (2, 64) and tokens.layout == "seq1d" and tokens.nbits() == 2 * 64 * 10
    assert tok.decode(tokens)[0].shape == (64 * 32, 3)
    residual = tokzoo.create(
        "points-vat-64",
        num_tokens=8,
        quantizer="rvq",
        quantizer_options={"num_quantizers": 2, "codebook_size": 256},
    ).eval()
    r = residual.encode(residual.example_input())
    assert r.layout == "seq1d+depth" and r.ids.shape[1] == 16
    assert residual.decode(r)[0].shape == (64 * 32, 3)


def test_multiscale_vat_tokens_prefixes_and_bytes_count_every_scale(tmp_path):
    from tokzoo.bench.eval_files import FileEvalOptions
    from tokzoo.points.evaluate import evaluate

    torch.manual_seed(0)
    tok = tokzoo.create("points-vat-64", num_tokens=16, out_groups=16, out_size=16, **MULTISCALE).eval()
    x = tok.example_input()
    tokens = tok.encode(x)
    assert (tokens.layout, tokens.shape, tokens.ids.shape) == ("multiscale1d", (1, 2, 4, 8, 16), (2, 31))
    assert tokens.nbits() == 2 * 31 * 6  # every scale's ids, 6 bits each: not 16 tokens' worth
    assert tok.token_counts() == [1, 3, 7, 15, 31]
    assert tok.decode(tokzoo.Tokens.from_bytes(tokens.to_bytes()))[0].shape == (16 * 16, 3)
    coarse = tok.encode(x, num_tokens=7)  # the first three scales
    assert (
        coarse.shape == (1, 2, 4)
        and torch.equal(coarse.ids, tokens.ids[:, :7])
        and coarse.nbits() == 2 * 7 * 6
    )
    assert tok.decode(coarse)[0].shape == (16 * 16, 3)
    with pytest.raises(ConfigError, match=r"num_tokens must be one of \[1, 3, 7, 15, 31\], not 16"):
        tok.encode(x, num_tokens=16)
    with pytest.raises(DataError, match="points-vat: expected multiscale tokens"):
        tok.decode(tokzoo.Tokens.from_ids(torch.zeros(2, 21, dtype=torch.long), 64, "multiscale", (1, 2, 4)))
    # tokzoo eval's bytes per shape: all 31 ids of 6 bits = 186 bits -> 24 bytes
    faces = "\n".join(f"f {a + 1} {b + 1} {c + 1}" for a, b, c in CUBE)
    verts = "\n".join(f"v {x} {y} {z}" for x, y, z in CORNERS)
    (tmp_path / "cube.obj").write_text(verts + "\n" + faces + "\n")
    (record,) = evaluate(tok, [tmp_path / "cube.obj"], FileEvalOptions()).records
    assert (record["tokens"], record["bytes"]) == (31, 24)


def test_multiscale_vat_refuses_scales_that_do_not_fit_its_sequence():
    small = {"num_tokens": 16, "out_groups": 16, "out_size": 16}
    with pytest.raises(ConfigError, match=r"scales \[1, 2, 4, 8\] must end at num_tokens = 16"):
        tokzoo.create(
            "points-vat-64", **small, quantizer="msrq1d", quantizer_options={"scales": [1, 2, 4, 8]}
        )
    with pytest.raises(ConfigError, match="square 2-D grid; the 1-D token sequence needs msrq1d"):
        tokzoo.create("points-vat-64", **small, quantizer="msrq", quantizer_options={"scales": [1, 2, 4]})
    with pytest.raises(ValueError, match="strictly increasing positive sequence lengths"):
        tokzoo.create(
            "points-vat-64", **small, quantizer="msrq1d", quantizer_options={"scales": [1, 8, 4, 16]}
        )


def test_multiscale_triplane_vat_trains_with_scale_dropout_and_no_nan():
    torch.manual_seed(0)
    small = {"dim": 64, "depth": 1, "groups": 16, "group_size": 16, "num_points": 256, "num_tokens": 16}
    options = {"scales": [1, 4, 16], "codebook_size": 64, "quantizer_dropout": 0.5}
    tok = tokzoo.create(
        "points-vat-tri-ms-64",
        plane_res=16,
        udf_queries=256,
        surface_res=16,
        quantizer_options=options,
        **small,
    )
    batch = torch.stack([_sphere(1024, seed=s) for s in range(2)])
    first, last = _train(tok, batch, 6)
    assert all(math.isfinite(v) for v in [*first.values(), *last.values()]), (first, last)
    assert all(torch.isfinite(p).all() for p in tok.parameters())
    tokens = tok.eval().encode([_sphere(256)])
    assert tokens.layout == "multiscale1d" and tokens.ids.shape == (1, 21) and tokens.nbits() == 21 * 6


# -- the triplane distance field (VAT's decoder, NDF's training) ---------------------------------------------
def test_udf_targets_and_queries_known_values():
    from tokzoo.points.udf import sample_queries, udf_targets

    cloud = _sphere(4000)[None]
    q = torch.tensor([[[0.0, 0.0, 0.5], [0.0, 0.0, 1.3], [0.0, 0.0, 3.0]]])
    d = udf_targets(q, cloud, clip=1.0)
    assert d[0, :2].tolist() == pytest.approx([0.5, 0.3], abs=0.03) and d[0, 2] == 1.0
    queries = sample_queries(cloud, 1000, (0.01,), torch.Generator().manual_seed(0))
    assert queries.shape == (1, 1000, 3) and queries[0, 500:].abs().max() <= 1.0
    assert (queries[0, :500].norm(dim=-1) - 1).abs().max() < 0.06  # near the surface


def test_surface_points_lie_on_the_zero_set_of_an_analytic_field():
    from tokzoo.points.udf import surface_points

    pts = surface_points(lambda x: (x.norm(dim=-1) - 0.5).abs(), res=32)
    assert len(pts) > 1000 and (pts.norm(dim=-1) - 0.5).abs().max() < 1e-3
    assert chamfer(pts, _sphere(4000, 0.5)) < 0.03  # they cover the sphere
    assert len(surface_points(lambda x: (x.norm(dim=-1) - 0.5).abs(), res=32, max_points=100)) == 100
    assert len(surface_points(lambda x: x.norm(dim=-1) + 1.0, res=16)) == 0  # no zero set: no points


def test_triplane_vat_learns_a_distance_field_and_decodes_surface_points():
    torch.manual_seed(0)
    small = {"dim": 64, "depth": 1, "groups": 16, "group_size": 16, "num_points": 256, "num_tokens": 16}
    tok = tokzoo.create("points-vat-tri-64", plane_res=16, udf_queries=512, surface_res=24, **small)
    assert tok.dataset_options() == {"points": 4096}
    first, last = _train(tok, torch.stack([_sphere(1024, seed=s) for s in range(4)]), 40)
    assert last["udf_l1"] < 0.6 * first["udf_l1"]
    tok.eval()
    tokens = tok.encode([_sphere(256) * 3 + 5])
    assert tokens.layout == "seq1d" and tokens.ids.shape == (1, 16)
    (pts,) = tok.decode(tokens)
    assert pts.ndim == 2 and pts.shape[1] == 3 and len(pts) > 50
    assert ((pts - 5).norm(dim=-1) - 3).abs().median() < 0.6  # near the sphere, in the source units


def test_points_dataset_gives_what_the_model_asks_for(tmp_path):
    from tokzoo.core.modality import get_modality

    faces = "\n".join(f"f {a + 1} {b + 1} {c + 1}" for a, b, c in CUBE)
    verts = "\n".join(f"v {x} {y} {z}" for x, y, z in CORNERS)
    (tmp_path / "cube.obj").write_text(verts + "\n" + faces + "\n")
    ds = get_modality("points").dataset(str(tmp_path), 64, seed=0, points=300)
    assert ds[(0, 1)].shape == (300, 3)
    assert get_modality("points").dataset(str(tmp_path), 64, seed=0)[(0, 1)].shape == (1024, 3)


def test_patch_anchored_tokens_depend_on_the_cloud_from_the_start():
    # learned queries pool all patches alike at initialisation (their tokens barely differ between shapes, and
    # training collapsed them to a few codes); tokens anchored on farthest-point patches differ at once
    torch.manual_seed(0)
    sphere, cube = tokzoo.create("points-vat-tri-64").example_input()
    anchored = tokzoo.create("points-vat-tri-64").eval().encode([sphere, cube]).ids
    queries = tokzoo.create("points-vat-tri-64", encoder="queries").eval().encode([sphere, cube]).ids
    assert (anchored[0] != anchored[1]).float().mean() > 0.5
    assert (queries[0] != queries[1]).float().mean() < (anchored[0] != anchored[1]).float().mean()
    with pytest.raises(tokzoo.TokzooError, match="num_tokens <= num_points"):
        tokzoo.create("points-vat-tri-64", num_points=48, groups=16)
    with pytest.raises(DataError, match="needs at least 64"):
        tokzoo.create("points-vat-tri-64").encode([_sphere(40)])
