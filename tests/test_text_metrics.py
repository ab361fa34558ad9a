"""Text metrics at values worked out by hand (tokzoo.text.metrics)."""

import math

import numpy as np
import pytest

import tokzoo
from tokzoo.text.metrics import (
    boundary_scores,
    bytes_per_token,
    conditional_entropies,
    parity,
    renyi_efficiency,
    renyi_entropy,
    shannon_efficiency,
    tokens_per_char,
    unigram_entropy,
    word_stats,
)
from tokzoo.text.metrics.entropy import token_counts
from tokzoo.text.metrics.report import text_metrics


def test_compression_units():
    assert bytes_per_token(12, 4) == 3.0 and tokens_per_char(4, 8) == 0.5
    with pytest.raises(ValueError):
        bytes_per_token(3, 0)


def test_fertility_and_continued_words():
    text = b"the cat  sat"  # words: the, cat, sat
    # tokens: "the" | " ca" | "t" | "  " | "s" | "at"  -> the: 1, cat: 2, sat: 2
    stats = word_stats(text, np.array([3, 3, 1, 2, 1, 2]))
    assert stats.words == 3 and stats.fertility == pytest.approx(5 / 3)
    assert stats.continued_word_rate == pytest.approx(2 / 3)
    # a token spanning "e c" counts for both words
    across = word_stats(b"the cat", np.array([2, 3, 2]))
    assert across.fertility == pytest.approx(2.0) and across.continued_word_rate == 1.0
    with pytest.raises(ValueError, match="sum to"):
        word_stats(text, np.array([1]))


def test_parity():
    p = parity([10, 30], [10, 10])
    assert p.mean_premium == 2.0 and p.total_premium == 2.0 and p.pairs == 2
    with pytest.raises(ValueError):
        parity([1], [0])


def test_entropies_and_efficiency_known_values():
    uniform = np.array([5, 5, 5, 5])
    assert unigram_entropy(uniform) == pytest.approx(2.0)
    assert shannon_efficiency(uniform, 4) == pytest.approx(1.0)
    assert shannon_efficiency(uniform, 16) == pytest.approx(
        0.5
    )  # the vocabulary size is what the caller says
    skew = np.array([2, 1, 1, 0])  # p = 1/2, 1/4, 1/4
    assert unigram_entropy(skew) == pytest.approx(1.5)
    assert renyi_entropy(skew, 2) == pytest.approx(-math.log2(0.25 + 0.0625 + 0.0625))
    assert renyi_entropy(skew, 0) == pytest.approx(math.log2(3))
    assert renyi_entropy(skew, math.inf) == pytest.approx(1.0)
    assert renyi_entropy(skew, 1) == pytest.approx(1.5)
    a = 2.5
    expected = math.log2(0.5**a + 2 * 0.25**a) / (1 - a) / math.log2(8)
    assert renyi_efficiency(skew, 8) == pytest.approx(expected)
    assert list(token_counts(np.array([0, 2, 2]), 4)) == [1, 0, 2, 0]


def test_conditional_entropies():
    alternating = [np.array([0, 1] * 50)]
    h = conditional_entropies(alternating, 2, max_k=2)
    assert (
        h[0] == pytest.approx(1.0)
        and h[1] == pytest.approx(0.0, abs=1e-12)
        and h[2] == pytest.approx(0.0, abs=1e-12)
    )
    rng = np.random.default_rng(0)
    iid = [rng.integers(0, 4, 200_000)]
    h = conditional_entropies(iid, 4, max_k=2)
    assert all(v == pytest.approx(2.0, abs=0.01) for v in h)
    # the hashed keys (V^(k+1) >= 2^63) give the same values as exact ones
    big = conditional_entropies([np.array([0, 1] * 50)], 2**40, max_k=2)
    assert big[1] == pytest.approx(0.0, abs=1e-12)
    assert conditional_entropies([np.array([3])], 4, max_k=1) == [0.0, None]


def test_boundary_scores_micro_and_macro():
    gold = [["ev", "ler", "de"], ["kitap"], ["okul", "a"]]
    pred = [["ev", "lerde"], ["kit", "ap"], ["okul", "a"]]
    s = boundary_scores(gold, pred)
    # word 1: tp 1, fn 1; word 2: fp 1; word 3: tp 1 -> micro tp 2, fp 1, fn 1
    assert s.micro_precision == pytest.approx(2 / 3) and s.micro_recall == pytest.approx(2 / 3)
    assert s.micro_f1 == pytest.approx(2 / 3)
    assert s.macro_precision == pytest.approx((1 + 0 + 1) / 3)
    assert s.macro_recall == pytest.approx((0.5 + 0 + 1) / 3)
    assert s.macro_f1 == pytest.approx((2 / 3 + 0 + 1) / 3)
    assert boundary_scores([["a"]], [["a"]]).macro_f1 == 1.0
    with pytest.raises(ValueError, match="same word"):
        boundary_scores([["ab"]], [["a", "c"]])


def test_report_on_a_real_tokenization():
    model = tokzoo.create("text-bytes")
    text = "naïve cat".encode()
    row = text_metrics(text, model.token_lengths(model.encode(text).sample(0).tolist()))
    assert row["bytes_per_token"] == 1.0 and row["tokens_per_char"] == pytest.approx(10 / 9)
    assert row["fertility"] == pytest.approx(4.5) and row["continued_word_rate"] == 1.0
