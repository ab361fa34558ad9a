"""Adaptive counts, fixed-share mixing and the mixture / windowed coding models."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tokzoo.core.tokens import Tokens
from tokzoo.prior.container import compress, decompress
from tokzoo.prior.mixing import AdaptiveCounts, FixedShareMixer, MixtureCodingModel, WindowedModel, laplace
from tokzoo.prior.unigram import AdaptiveUnigram, StaticUnigram


def _tokens(rows: list[list[int]], vocab: int) -> Tokens:
    width = max(len(r) for r in rows)
    ids = torch.zeros((len(rows), width), dtype=torch.int64)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r)
    return Tokens(ids, torch.tensor([len(r) for r in rows]), vocab, "seq1d", (width,))


def test_adaptive_counts_learn_and_halve():
    t = AdaptiveCounts(4, prior=0.5, limit=8)
    for _ in range(20):
        t.update(2)
    p = t.probs()
    assert p.argmax() == 2 and p.sum() == pytest.approx(1) and p.min() > 0
    assert t.seen <= 8  # halved, so the counts follow recent symbols


def test_fixed_share_moves_to_the_better_component_and_keeps_a_floor():
    m = FixedShareMixer(2, alpha=0.02)
    for _ in range(50):
        m.update(np.array([0.9, 0.1]))
    assert m.w[0] > 0.95 and m.w[1] >= 0.01
    assert m.mix(np.array([[1.0, 0.0], [0.0, 1.0]])).sum() == pytest.approx(1)


def test_laplace_peaks_at_the_prediction():
    p = laplace(10.3, 2.0, 64)
    assert p.sum() == pytest.approx(1) and p.argmax() == 10 and p[0] < p[20] < p[10]


def test_mixture_round_trip_and_close_to_its_best_component():
    rng = np.random.default_rng(0)
    rows = [
        rng.choice(8, size=300, p=[0.6, 0.2, 0.1, 0.04, 0.03, 0.01, 0.01, 0.01]).tolist() for _ in range(2)
    ]
    tokens = _tokens(rows, 8)
    good, bad = AdaptiveUnigram(8), StaticUnigram(np.ones(8))
    mix = MixtureCodingModel([AdaptiveUnigram(8), StaticUnigram(np.ones(8))], "mix")
    data, bits = compress(tokens, mix)
    assert decompress(data, MixtureCodingModel([AdaptiveUnigram(8), StaticUnigram(np.ones(8))], "mix")).equal(
        tokens
    )
    best = min(compress(tokens, good)[1], compress(tokens, bad)[1])
    assert bits <= best + 2 * 2 + 0.03 * tokens.num_tokens  # log2(k) per sample plus the share's cost


class _PerSample(AdaptiveUnigram):
    """An adaptive unigram that starts afresh for every sample."""

    def for_sample(self, layout, shape, length):
        return AdaptiveUnigram(self.counts.size)


def test_windowed_model_restarts_every_window():
    windowed = compress(_tokens([[1, 1, 1, 2, 2, 2, 3]], 4), WindowedModel(_PerSample(4), 3))[1]
    split = compress(_tokens([[1, 1, 1], [2, 2, 2], [3]], 4), _PerSample(4))[1]  # the same, as 3 samples
    whole = compress(_tokens([[1, 1, 1, 2, 2, 2, 3]], 4), _PerSample(4))[1]
    assert windowed == split != whole


def test_mixture_refuses_models_coding_out_of_order():
    class Reversed(AdaptiveUnigram):
        def order(self, layout, shape, length):
            return list(range(length))[::-1]

    with pytest.raises(ValueError, match="out of stored order"):
        compress(_tokens([[1, 2, 3]], 4), MixtureCodingModel([Reversed(4)], "mix"))
