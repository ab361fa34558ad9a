"""The arithmetic coder: exact round trips on arbitrary streams and models (tiny probabilities included), code
size within 2 bits (+ a vanishing precision term) of the information content, and the .tokc file's size."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tokzoo.core.errors import TokFormatError
from tokzoo.core.tokens import Tokens
from tokzoo.prior.coder import decode, encode
from tokzoo.prior.container import coded_size, compress, decompress, header_size
from tokzoo.prior.frequencies import ideal_bits, quantize
from tokzoo.prior.unigram import AdaptiveUnigram, StaticUnigram, token_counts


class _Table:
    """A context model: the frequencies depend on the previous symbol (a fixed random Markov chain)."""

    def __init__(self, table: np.ndarray) -> None:
        self.table, self.prev = table, 0

    def frequencies(self) -> np.ndarray:
        return self.table[self.prev]

    def update(self, symbol: int) -> None:
        self.prev = symbol


def _markov(vocab: int, seed: int, tiny: bool) -> np.ndarray:
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.full(vocab, 0.3), size=vocab)
    if tiny:  # most symbols get a probability far below 1 / 2**24: only the floor lets them code
        probs[:, 1:] *= 1e-12
    return np.stack([quantize(p) for p in probs])


@settings(max_examples=100, deadline=None)
@given(
    vocab=st.integers(1, 40),
    data=st.data(),
    seed=st.integers(0, 2**16),
    tiny=st.booleans(),
)
def test_round_trip_and_size(vocab, data, seed, tiny):
    symbols = data.draw(st.lists(st.integers(0, vocab - 1), max_size=300))
    table = _markov(vocab, seed, tiny)
    code, nbits = encode(symbols, _Table(table))
    assert decode(code, len(symbols), _Table(table)) == symbols
    assert len(code) == -(-nbits // 8)
    info, prev = 0.0, 0
    for s in symbols:
        info += ideal_bits(table[prev], s)
        prev = s
    assert info - 1e-6 <= nbits <= info + 2 + 1e-6 * len(symbols) + 1e-9


def test_quantize_floor_and_total():
    f = quantize(np.array([1.0, 0.0, 1e-30, np.finfo(float).tiny]))
    assert f.sum() == 2**24 and f.min() == 1
    with pytest.raises(ValueError, match="finite"):
        quantize(np.array([0.5, np.nan]))
    with pytest.raises(ValueError, match="too large"):
        quantize(np.ones(2**23 + 1))


def test_adaptive_unigram_learns_a_skewed_stream():
    rng = np.random.default_rng(0)
    p = np.array([0.7] + [0.02] * 15)
    symbols = rng.choice(16, size=2000, p=p).tolist()
    entropy = float(-(p * np.log2(p)).sum())  # 2.05 bits vs 4 fixed
    code, nbits = encode(symbols, AdaptiveUnigram(16))
    assert decode(code, len(symbols), AdaptiveUnigram(16)) == symbols
    assert nbits < (entropy + 0.1) * len(symbols)


def test_tokc_file_round_trip_and_exact_size():
    ids = torch.randint(0, 1000, (3, 20))
    tokens = Tokens(ids, torch.tensor([20, 7, 0]), 1000, "seq1d", (), {"k": 1})
    model = StaticUnigram(token_counts(tokens))
    data, nbits = compress(tokens, model)
    assert len(data) == coded_size(header_size(data), nbits)
    assert decompress(data, model).equal(tokens)
    with pytest.raises(TokFormatError, match="checksum"):
        decompress(data[:-5] + bytes([data[-5] ^ 1]) + data[-4:], model)
    with pytest.raises(TokFormatError, match="model"):
        decompress(data, AdaptiveUnigram(1000))


def test_bench_rates_side_by_side():
    from tokzoo.bench.rates import token_rates

    g = torch.Generator().manual_seed(0)
    ids = torch.where(torch.rand(8, 64, generator=g) < 0.8, 3, torch.randint(0, 256, (8, 64), generator=g))
    tokens = Tokens.from_ids(ids, 256, "grid2d", (8, 8))
    rates = token_rates(tokens)
    per = rates.per_token()
    assert per["fixed"] == 8.0
    assert per["unigram"] < per["coded"] < 0.5 * per["fixed"]  # adaptive coding pays for learning its counts
    assert rates.saving() > 0.5 and rates.model == "unigram-adaptive"
