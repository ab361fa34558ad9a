"""Compression-aware BPE: the criterion at hand-worked values, and which merge it picks."""

from collections import Counter

import pytest

from tokzoo.text.compression_bpe import code_length_gain, learn_merges


def test_gain_known_values():
    # "abab": n_a = n_b = 2, N = 4 -> L = 4 log2 4 - 2 - 2 = 4 bits; after merging both "ab": N = 2, L = 0
    assert code_length_gain(Counter({"a": 2, "b": 2}), 4, ("a", "b"), 2) == pytest.approx(4.0)
    # "aaaa" merged into "aa aa": L goes from 0 (one symbol) to 0
    assert code_length_gain(Counter({"a": 4}), 4, ("a", "a"), 2) == pytest.approx(0.0)


def test_frequency_and_compression_pick_different_first_merges():
    # ("x", "y") is the most frequent pair, but x and y are also everywhere else (low association);
    # ("q", "z") is rarer but q and z occur only together, so merging it removes more bits
    words = {"xy": 6, "xa": 20, "ya": 20, "bx": 20, "by": 20, "qz": 5}
    assert learn_merges(words, 1, criterion="frequency", min_frequency=1)[0] in {
        ("x", "a"),
        ("y", "a"),
        ("b", "x"),
        ("b", "y"),
    }
    counts, total = Counter(), 0
    for w, f in words.items():
        for ch in w:
            counts[ch] += f
            total += f
    pairs = {(w[0], w[1]): f for w, f in words.items()}
    best = max(pairs, key=lambda p: code_length_gain(counts, total, p, pairs[p]))
    assert learn_merges(words, 1, criterion="compression", candidates=10, min_frequency=1) == [best]
    assert best == ("q", "z")


def test_merges_respect_limits():
    words = {"aaaa": 10, "ab": 3}
    assert learn_merges(words, 10, criterion="frequency", min_frequency=5) == [("a", "a"), ("aa", "aa")]
    assert learn_merges(words, 10, criterion="frequency", min_frequency=5, max_token_length=2) == [("a", "a")]
    with pytest.raises(ValueError, match="criterion"):
        learn_merges(words, 1, criterion="size")
