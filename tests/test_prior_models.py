"""Priors over tokens: layout adapters for every layout, AR causality (also next-scale), cached = uncached
logits, sampling lengths, the MaskGIT schedule and loss."""

import itertools

import pytest
import torch

from tokzoo.core.errors import ConfigError
from tokzoo.core.tokens import Tokens
from tokzoo.prior.ar import ARPrior
from tokzoo.prior.ar_sample import sample_ar
from tokzoo.prior.config import PriorConfig
from tokzoo.prior.layout import LAYOUTS, from_sequence, sequence_layout, to_sequence
from tokzoo.prior.maskgit import MaskGITPrior, masked_count, sample_maskgit

SHAPES = {
    "seq1d": (12,),
    "grid2d": (3, 4),
    "grid3d": (2, 2, 3),
    "seq1d+depth": (5, 3),
    "grid2d+depth": (2, 3, 2),
    "grid3d+depth": (2, 2, 1, 2),
    "multiscale": (1, 2, 3),
    "multiscale1d": (1, 2, 4),
    "matryoshka": (1, 2, 4),
}


def _tokens(layout, shape, vocab=11, batch=3, seed=0):
    seq = sequence_layout(layout, shape, vocab)
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, vocab, (batch, seq.length), generator=g)
    lengths = torch.tensor([seq.length, 5, 0]) if seq.variable else torch.full((batch,), seq.length)
    return Tokens(ids, lengths, vocab, layout, shape, {"m": 1})


@pytest.mark.parametrize("layout", LAYOUTS)
def test_adapters_round_trip(layout):
    shape = SHAPES[layout]
    tokens = _tokens(layout, shape)
    seq = sequence_layout(layout, shape, 11)
    ids, lengths = to_sequence(tokens, seq)
    assert from_sequence(ids, lengths, seq, tokens.meta).equal(tokens)
    assert sum(seq.groups) == seq.positions and len(seq.source) == seq.positions
    bounds = torch.tensor([0, *seq.groups]).cumsum(0)
    group_of = torch.repeat_interleave(torch.arange(len(seq.groups)), torch.tensor(seq.groups))
    for i, s in enumerate(seq.source):  # every input comes from an earlier step
        assert s == -1 or group_of[s] < group_of[i]
    assert bounds[-1] == seq.positions


def test_next_scale_sources_are_the_same_place_one_scale_coarser():
    seq = sequence_layout("multiscale1d", (1, 2, 4), 11)
    assert seq.groups == (1, 2, 4) and seq.source == (-1, 0, 0, 1, 1, 2, 2)
    seq = sequence_layout("multiscale1d", (2, 3), 11)  # nearest: position c of 3 reads c * 2 // 3 of 2
    assert seq.source == (-1, -1, 0, 0, 1)
    grid = sequence_layout("multiscale", (1, 2), 11)
    assert grid.groups == (1, 4) and grid.source == (-1, 0, 0, 0, 0)


def test_depth_order_is_position_major():
    tokens = Tokens.from_ids(torch.tensor([[0, 1, 2, 10, 11, 12]]), 20, "seq1d+depth", (3, 2))
    ids, _ = to_sequence(tokens, sequence_layout("seq1d+depth", (3, 2), 20))
    assert ids.tolist() == [[0, 10, 1, 11, 2, 12]]


def test_adapter_errors():
    with pytest.raises(ValueError, match="no prior layout"):
        sequence_layout("hexgrid", (3,), 4)
    with pytest.raises(ValueError, match="continuous"):
        to_sequence(
            Tokens.from_values(torch.zeros(1, 4, 2), "seq1d", (4,)), sequence_layout("seq1d", (4,), 1)
        )
    with pytest.raises(ValueError, match="shape"):
        to_sequence(_tokens("grid2d", (3, 4)), sequence_layout("grid2d", (4, 3), 11))
    with pytest.raises(ConfigError, match="divisible"):
        PriorConfig(dim=30, heads=4)


def _ar(layout, **kw):
    torch.manual_seed(0)
    cfg = PriorConfig(
        layout=layout, shape=list(SHAPES[layout]), vocab_size=11, dim=32, depth=2, heads=2, **kw
    )
    return ARPrior(cfg).eval()


@pytest.mark.parametrize("layout", ["grid2d", "seq1d", "multiscale", "multiscale1d", "grid2d+depth"])
def test_ar_causality(layout):
    prior = _ar(layout)
    seq = prior.seq
    tokens = _tokens(layout, SHAPES[layout])
    ids, _ = to_sequence(tokens, seq)
    base = prior.logits(ids)
    group_of = torch.repeat_interleave(torch.arange(len(seq.groups)), torch.tensor(seq.groups))
    for t in range(seq.length):
        changed = ids.clone()
        changed[:, t] = (changed[:, t] + 1) % 11
        other = prior.logits(changed)
        same = group_of <= group_of[t]  # the step of token t and all before it never see it
        assert torch.equal(base[:, same], other[:, same])
        if bool((~same).any()):
            assert not torch.allclose(base[:, ~same], other[:, ~same])


@pytest.mark.parametrize("layout", ["grid2d", "seq1d", "multiscale", "multiscale1d"])
def test_kv_cache_equals_full_forward(layout):
    prior = _ar(layout, num_classes=3)
    tokens = _tokens(layout, SHAPES[layout])
    ids, _ = to_sequence(tokens, prior.seq)
    classes = torch.tensor([0, 2, 3])
    full = prior.logits(ids, classes)
    cache = prior.new_cache()
    steps = [prior.step(ids, g, cache, classes) for g in range(len(prior.seq.groups))]
    torch.testing.assert_close(torch.cat(steps, 1), full, atol=1e-5, rtol=1e-5)


def test_sampling_with_and_without_cache_agree():
    prior = _ar("seq1d")
    a = sample_ar(prior, 4, generator=torch.Generator().manual_seed(1))
    b = sample_ar(prior, 4, use_cache=False, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a.ids, b.ids) and torch.equal(a.lengths, b.lengths)
    assert bool((a.lengths <= 12).all()) and bool((a.ids[torch.arange(12) >= a.lengths[:, None]] == 0).all())
    ms = sample_ar(_ar("multiscale"), 2)
    assert ms.ids.shape == (2, 14) and bool(ms.ended.all())


def test_ar_loss_trains_down():
    prior = _ar("grid2d").train()
    tokens = _tokens("grid2d", SHAPES["grid2d"])
    ids, lengths = to_sequence(tokens, prior.seq)
    opt = torch.optim.Adam(prior.parameters(), lr=3e-3)
    first = prior(ids, lengths).item()
    for _ in range(30):
        loss = prior(ids, lengths)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.5 * first
    bits = prior.nll_bits(ids, lengths)
    assert bits.shape == (3,) and bool((bits > 0).all())


def test_maskgit_schedule():
    for n, steps in [(16, 8), (5, 5), (64, 12)]:
        counts = [masked_count(t, steps, n) for t in range(steps + 1)]
        assert counts[0] == n and counts[-1] == 0
        assert all(a > b for a, b in itertools.pairwise(counts))
    assert masked_count(1, 8, 64) == 63  # ceil(cos(pi/16) * 64) = ceil(62.77)


def test_maskgit_loss_and_sample():
    torch.manual_seed(0)
    cfg = PriorConfig(kind="maskgit", layout="grid2d", shape=[3, 4], vocab_size=11, dim=32, depth=2, heads=2)
    prior = MaskGITPrior(cfg)
    tokens = _tokens("grid2d", (3, 4))
    ids, lengths = to_sequence(tokens, prior.seq)
    loss = prior(ids, lengths, generator=torch.Generator().manual_seed(0))
    assert loss.ndim == 0 and torch.isfinite(loss)
    out = sample_maskgit(prior.eval(), 3, steps=4)
    assert out.shape == (3, 12) and bool((out < 11).all())
