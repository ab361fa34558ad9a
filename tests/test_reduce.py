"""tokzoo.reduce: every method's kept count, padded (mixed-budget) batches equal per-sample runs, merge sizes
sum to N, unmerge restores shape and order, proportional attention is a weighted softmax, gradients flow."""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from tokzoo.core.errors import ConfigError, DataError
from tokzoo.reduce import METHODS, Reduced, create_method, identifier_spans, reduce
from tokzoo.reduce.base import merge, select
from tokzoo.reduce.maxmin import greedy_maxmin

B, N, D = 3, 65, 16  # CLS + an 8×8 grid, 5 "views" of 13 tokens for the multi-view methods
BUDGETED = [
    "random",
    "pool",
    "tome",
    "attention",
    "visionzip",
    "divprune",
    "segpruner",
    "adatoken3d",
    "fastvggt",
]


def _context(name: str, x: torch.Tensor, generator: torch.Generator) -> dict:
    if name == "segpruner":
        return {"points": torch.randn(*x.shape[:2], 3, generator=generator)}
    if name == "adatoken3d":
        return {"instruction": torch.randn(len(x), 4, x.shape[-1], generator=generator)}
    if name == "fastvggt":
        return {"reference": 13}
    return {}


def _method(name: str):
    return (
        create_method(name, protected=1)
        if name != "fastvggt"
        else create_method(name, protected=1, dst_ratio=0.0)
    )


def _inputs(seed: int = 0) -> tuple[torch.Tensor, dict]:
    return torch.randn(B, N, D, generator=torch.Generator().manual_seed(seed)), {}


@pytest.mark.parametrize("name", BUDGETED)
def test_exact_kept_count_and_maps(name):
    x, _ = _inputs()
    context = _context(name, x, torch.Generator().manual_seed(1))
    keep = 17 if name != "fastvggt" else 30  # fastvggt keeps frame 0 (13 tokens) whole
    out = _method(name).reduce(x, keep, **context)
    assert out.tokens.shape == (B, keep, D) and out.valid is None
    assert out.assign.shape == (B, N) and int(out.assign.max()) < keep
    # every output slot is used; merging methods account for every input token
    for b in range(B):
        assert set(out.assign[b][out.assign[b] >= 0].tolist()) == set(range(keep))
    if create_method(name).merges:
        torch.testing.assert_close(out.sizes.sum(1), torch.full((B,), float(N)))
    else:
        assert bool((out.sizes == 1).all()) and bool(((out.assign >= 0).sum(1) == keep).all())
    assert bool((out.assign[:, 0] == 0).all()), "the protected CLS token stays first"
    assert bool((out.index.diff(dim=1) > 0).all()), "outputs are in token order"
    dense = out.unmerge(out.tokens)
    assert dense.shape == x.shape


@pytest.mark.parametrize("name", BUDGETED)
def test_mixed_budgets_equal_per_sample_runs(name):
    x, _ = _inputs(2)
    context = _context(name, x, torch.Generator().manual_seed(3))
    budgets = [65, 33, 9] if name != "fastvggt" else [65, 40, 20]
    method = _method(name)
    mixed = method.reduce(x, torch.tensor(budgets), **context)
    assert mixed.counts.tolist() == budgets and mixed.tokens.shape[1] == max(budgets)
    for b, k in enumerate(budgets):
        if name in ("random", "fastvggt"):  # their draws depend on the batch shape: compare to the same batch
            alone = method.reduce(x, k, **context)
            alone = Reduced(
                alone.tokens[b : b + 1],
                alone.assign[b : b + 1],
                alone.sizes[b : b + 1],
                alone.index[b : b + 1],
            )
        else:
            one = {key: v[b : b + 1] if isinstance(v, torch.Tensor) else v for key, v in context.items()}
            alone = method.reduce(x[b : b + 1], k, **one)
        torch.testing.assert_close(mixed.tokens[b, :k], alone.tokens[0])
        torch.testing.assert_close(mixed.sizes[b, :k], alone.sizes[0])
        assert torch.equal(mixed.assign[b], alone.assign[0])
        assert bool((mixed.tokens[b, k:] == 0).all()) and bool((mixed.sizes[b, k:] == 0).all())


@pytest.mark.parametrize("name", ["random", "tome", "attention", "visionzip", "divprune"])
def test_padded_input_is_respected(name):
    """A sample padded to N gives the same reduction as the sample alone (a second stage of a patched model)."""
    x, _ = _inputs(4)
    valid = torch.arange(N)[None] < torch.tensor([[N], [40], [20]]).T.reshape(-1, 1)
    x = x.masked_fill(~valid[..., None], 0.0)
    out = _method(name).reduce(x, torch.tensor([10, 10, 10]), valid=valid)
    assert out.counts.tolist() == [10, 10, 10]
    assert bool((out.assign[~valid] == -1).all()), "padding is never kept"
    if name != "random":
        alone = _method(name).reduce(x[2:3, :20], 10)
        torch.testing.assert_close(out.tokens[2], alone.tokens[0])


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(2, 40),
    data=st.data(),
)
def test_tome_sizes_and_weighted_means(n, data):
    k = data.draw(st.integers(1, n))
    x = torch.randn(2, n, 4, generator=torch.Generator().manual_seed(n * 100 + k))
    out = reduce(x, "tome", k)
    assert out.tokens.shape[1] == k
    torch.testing.assert_close(out.sizes.sum(1), torch.full((2,), float(n)))
    # every merged token is exactly the mean of the inputs assigned to it
    for b in range(2):
        for j in range(k):
            members = x[b, out.assign[b] == j]
            assert len(members) == int(out.sizes[b, j])
            torch.testing.assert_close(out.tokens[b, j], members.mean(0), atol=1e-5, rtol=1e-5)


@settings(max_examples=20, deadline=None)
@given(h=st.integers(1, 8), w=st.integers(1, 8), data=st.data())
def test_pool_partitions_the_grid(h, w, data):
    k = data.draw(st.sampled_from([a * c for a in range(1, h + 1) for c in range(1, w + 1)]))
    x = torch.randn(1, h * w, 3)
    out = create_method("pool").reduce(x, k, grid=(h, w))
    assert out.tokens.shape[1] == k and float(out.sizes.sum()) == h * w
    torch.testing.assert_close((out.tokens * out.sizes[..., None]).sum(1) / (h * w), x.mean(1))


def test_pool_nested_scales_match_average_pooling():
    """M3's 24×24 → 12×12 → 6×6 → 3×3 → 1 nesting is 2-D average pooling."""
    g = torch.randn(2, 8, 24, 24)
    x = g.flatten(2).transpose(1, 2)
    for side in (12, 6, 3, 1):
        out = create_method("pool").reduce(x, side * side)
        expected = F.adaptive_avg_pool2d(g, side).flatten(2).transpose(1, 2)
        torch.testing.assert_close(out.tokens, expected)
    with pytest.raises(ConfigError, match="cannot tile"):
        create_method("pool").reduce(x, 31)  # prime, longer than a row


def test_proportional_attention_is_a_weighted_softmax():
    q, k, v = torch.randn(2, 3, 5, 8), torch.randn(2, 3, 7, 8), torch.randn(2, 3, 7, 8)
    sizes = torch.tensor([[1, 2, 3, 1, 1, 4, 2], [5, 1, 1, 1, 2, 1, 1]], dtype=torch.float)
    bias = Reduced(
        torch.zeros(2, 7, 1), torch.zeros(2, 7, dtype=torch.long), sizes, torch.zeros(2, 7)
    ).attention_bias()
    fast = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
    weights = sizes[:, None, None, :] * torch.exp(q @ k.transpose(-1, -2) / math.sqrt(8))
    explicit = (weights / weights.sum(-1, keepdim=True)) @ v
    torch.testing.assert_close(fast, explicit)


def test_merged_attention_equals_attention_over_duplicates():
    """Attending a token of size s equals attending s identical copies of it (what proportional attention is for)."""
    q, kv = torch.randn(1, 1, 4, 8), torch.randn(1, 1, 3, 8)
    sizes = torch.tensor([[1.0, 3.0, 2.0]])
    red = Reduced(kv[:, 0], torch.zeros(1, 6, dtype=torch.long), sizes, torch.zeros(1, 3, dtype=torch.long))
    merged = F.scaled_dot_product_attention(q, kv, kv, attn_mask=red.attention_bias())
    copies = kv.repeat_interleave(torch.tensor([1, 3, 2]), dim=2)
    torch.testing.assert_close(merged, F.scaled_dot_product_attention(q, copies, copies))


@pytest.mark.parametrize("name", ["tome", "visionzip", "pool", "attention", "divprune", "fastvggt"])
def test_gradients_flow(name):
    x = torch.randn(2, N, D, requires_grad=True)
    out = _method(name).reduce(x, 33, **_context(name, x.detach(), torch.Generator().manual_seed(0)))
    out.unmerge(out.tokens).square().sum().backward()
    assert x.grad is not None and bool(x.grad.abs().sum() > 0)


def test_random_keep_without_seed_draws_fresh_subsets():
    x = torch.randn(1, 200, 2)
    method = create_method("random", seed=None)
    assert not torch.equal(method.reduce(x, 20).index, method.reduce(x, 20).index)
    seeded = create_method("random", seed=3)
    assert torch.equal(seeded.reduce(x, 20).index, seeded.reduce(x, 20).index)


def test_unmerge_restores_token_order():
    x = torch.randn(2, 10, 4)
    keep = torch.tensor([[True, False, True, True, False, False, True, False, False, True]] * 2)
    out = select(x, keep)
    dense = out.unmerge(out.tokens, fill=float("nan"))
    torch.testing.assert_close(dense[keep], x[keep])
    assert bool(dense[~keep].isnan().all())
    with pytest.raises(DataError, match="unmerge"):
        out.unmerge(torch.zeros(2, 3, 4))


def test_merge_checks_representatives():
    x = torch.randn(1, 3, 2)
    with pytest.raises(DataError, match="representative"):
        merge(x, torch.tensor([[True, False, True]]), torch.tensor([[0, 1, 2]]))


def test_greedy_maxmin_is_farthest_point_sampling():
    points = torch.tensor([[[0.0], [1.0], [10.0], [3.0], [6.0]]])

    def distance_to(idx):
        return (points[0, :, 0] - points[0, idx, 0]).abs()

    chosen = greedy_maxmin(
        distance_to, torch.zeros(1, 5, dtype=torch.bool), torch.tensor([3]), torch.tensor([0])
    )
    assert chosen[0].nonzero().flatten().tolist() == [0, 2, 4]  # 0, then 10, then 6 (4 from both)


def test_attention_scores_only_from_query_rows():
    """Top-k by CLS attention equals top-k by the CLS row of the full attention matrix."""
    x = torch.randn(2, 20, 8)
    full = torch.softmax(x @ x.transpose(1, 2) / math.sqrt(8), -1)[:, 0]
    out = create_method("attention", protected=1).reduce(x, 6)
    expected = full[:, 1:].topk(5, dim=1).indices + 1
    for b in range(2):
        assert set(out.index[b, 1:].tolist()) == set(expected[b].tolist())


def test_segpruner_cross_view_covers_space_once():
    """Two views of the same 4 surface points: joint FPS spends the budget on distinct points, per-view FPS
    picks the same points twice."""
    pts = torch.tensor([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]]).repeat(2, 1)[None]
    feats = torch.nn.functional.one_hot(torch.arange(4), 8).float().repeat(2, 1)[None]
    scores = torch.zeros(1, 8)
    joint = create_method("segpruner", lam=1.0, saliency=0.0).reduce(feats, 4, points=pts, scores=scores)
    per_view = create_method("segpruner", lam=1.0, saliency=0.0, per_view=True).reduce(
        feats, 4, points=pts, scores=scores, views=2
    )
    assert len({tuple(p) for p in pts[0, joint.index[0]].tolist()}) == 4
    assert len({tuple(p) for p in pts[0, per_view.index[0]].tolist()}) < 4


def test_segpruner_skips_tokens_without_depth_until_they_are_needed():
    """Far back-projections of sky tokens win plain FPS; with ``depth_valid`` they are left out (and out of
    d_max) while located tokens remain, and still fill the budget when there are too few located ones."""
    near = torch.tensor([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]])
    sky = torch.tensor([[30.0, 0, 0], [0, 30, 0], [30, 30, 0], [-30, 0, 0]])
    pts = torch.cat([near, sky]).repeat(2, 1)[None]  # two views of the same 8 points
    feats = torch.randn(1, 16, 8)
    ok = torch.tensor([True] * 4 + [False] * 4).repeat(2)[None]
    method = create_method("segpruner", lam=1.0, saliency=0.0)
    plain = method.reduce(feats, 4, points=pts, scores=torch.zeros(1, 16))
    assert not ok[0, plain.index[0]].all()  # without depth validity the far points are picked
    masked = method.reduce(feats, 4, points=pts, scores=torch.zeros(1, 16), depth_valid=ok)
    assert ok[0, masked.index[0]].all()
    assert len({tuple(p) for p in pts[0, masked.index[0]].tolist()}) == 4  # still spread over the 4 surfaces
    many = method.reduce(feats, 12, points=pts, scores=torch.zeros(1, 16), depth_valid=ok)
    assert many.index.shape == (1, 12) and ok[0, many.index[0]].sum() == 8  # every located token, then 4 more
    per_view = create_method("segpruner", lam=1.0, saliency=0.0, per_view=True).reduce(
        feats, 4, points=pts, scores=torch.zeros(1, 16), views=2, depth_valid=ok
    )
    assert ok[0, per_view.index[0]].all()
    with pytest.raises(DataError, match="depth_valid"):
        method.reduce(feats, 4, points=pts, depth_valid=ok.float())


def test_identifier_spans_and_merge():
    source = "total_count = max_value + 1\n"
    # a subword tokenizer's pieces: "total", "_count", " =", " max", "_value", " +", " 1", "\n"
    offsets = [(0, 5), (5, 11), (11, 13), (13, 17), (17, 23), (23, 25), (25, 27), (27, 28)]
    spans = identifier_spans(source, [(s + (source[s] == " "), e) for s, e in offsets])
    assert spans == [0, 0, -1, 1, 1, -1, -1, -1]
    x = torch.randn(1, 8, 4)
    out = reduce(x, "identifier", spans=torch.tensor([spans]))
    assert out.tokens.shape[1] == 6 and out.index[0].tolist() == [
        1,
        2,
        4,
        5,
        6,
        7,
    ]  # at the span's last token
    torch.testing.assert_close(out.tokens[0, 0], x[0, :2].mean(0))
    with pytest.raises(ConfigError, match="keep=None"):
        reduce(x, "identifier", 4, spans=torch.tensor([spans]))


def test_object_tokens_pool_their_masks():
    x = torch.randn(2, 16, 4)
    masks = torch.zeros(2, 2, 8, 8)
    masks[:, 0, :4, :4] = 1  # top-left quarter of the pixels = top-left 2×2 tokens
    masks[0, 1, 4:, 4:] = 1
    out = reduce(x, "objects", masks=masks)
    top_left = torch.tensor([0, 1, 4, 5])
    torch.testing.assert_close(out.tokens[:, 0], x[:, top_left].mean(1))
    assert out.valid[:, 1].tolist() == [True, False] and out.sizes[0].tolist() == [4.0, 4.0]
    assert out.assign[0, top_left].tolist() == [0, 0, 0, 0] and int(out.assign[0, 2]) == -1


def test_bad_inputs_are_clear_errors():
    x = torch.randn(2, 10, 4)
    with pytest.raises(ConfigError, match="outside"):
        reduce(x, "random", 11)
    with pytest.raises(ConfigError, match="fraction"):
        reduce(x, "random", 1.5)
    with pytest.raises(ConfigError, match="unknown context"):
        reduce(x, "random", 3, points=x)
    with pytest.raises(ConfigError, match="query"):
        reduce(x, "attention", 3)
    with pytest.raises(DataError, match="float"):
        reduce(torch.ones(2, 3, dtype=torch.long), "random", 1)
    with pytest.raises(KeyError, match="unknown reduction method"):
        create_method("nope")
    assert sorted(METHODS) == sorted([*BUDGETED, "identifier", "objects"])
