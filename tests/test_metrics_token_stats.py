"""Token-stream statistics against known values."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tokzoo.metrics.token_stats import conditional_entropy, position_entropy, token_stats, unigram_entropy


def test_uniform_iid_stream_reaches_log2_vocab():
    g = torch.Generator().manual_seed(0)
    seqs = [torch.randint(0, 16, (4096,), generator=g) for _ in range(8)]
    s = token_stats(seqs, 16)
    assert s["usage"] == 1.0 and s["used_codes"] == 16 and s["tokens"] == 8 * 4096
    assert s["entropy_bits"] == pytest.approx(4.0, abs=0.01)
    assert s["perplexity"] == pytest.approx(16, rel=0.01)
    assert s["conditional_entropy_bits"] == pytest.approx(
        4.0, abs=0.02
    )  # iid: the previous token says nothing
    assert s["max_entropy_bits"] == 4.0


def test_deterministic_successor_has_zero_conditional_entropy():
    # t_i = t_{i-1} + 1 mod 8: every id equally often (3 bits) yet fully predictable from its predecessor.
    seqs = [(torch.arange(64) + start) % 8 for start in range(8)]
    s = token_stats(seqs, 256)
    assert s["entropy_bits"] == pytest.approx(3.0)
    assert s["conditional_entropy_bits"] == pytest.approx(0.0, abs=1e-12)
    assert s["usage"] == 8 / 256 and s["perplexity"] == pytest.approx(8.0)
    # each position sees all 8 start offsets once: 3 bits everywhere
    assert s["position_entropy_bits"] == pytest.approx([3.0] * 64)


def test_constant_positions_carry_no_information():
    seqs = [torch.tensor([5, i, 7]) for i in range(4)]
    assert position_entropy(seqs) == pytest.approx([0.0, 2.0, 0.0])


def test_pairs_do_not_span_sequences():
    # within each sequence the next token is fixed; joining them end to end would add spurious pairs
    seqs = [torch.tensor([0, 1]), torch.tensor([2, 3])]
    assert conditional_entropy(seqs) == 0.0
    assert conditional_entropy([torch.tensor([3])]) is None
    assert token_stats([torch.tensor([3])], 4)["conditional_entropy_bits"] is None


@settings(max_examples=50, deadline=None)
@given(st.lists(st.lists(st.integers(0, 9), min_size=1, max_size=30), min_size=1, max_size=6))
def test_entropy_bounds(rows):
    seqs = [torch.tensor(r) for r in rows]
    h = unigram_entropy(seqs)
    distinct = len({v for r in rows for v in r})
    assert -1e-9 <= h <= math.log2(distinct) + 1e-9
    c = conditional_entropy(seqs)
    if c is not None:
        assert -1e-9 <= c <= math.log2(distinct) + 1e-9
    assert all(0 <= e <= math.log2(len(rows)) + 1e-9 for e in position_entropy(seqs))
