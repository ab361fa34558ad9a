"""The word-pooled byte LM ("Learn Your Tokens"): lossless word split, causality, learning, bits per byte."""

import math

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st

from tokzoo.text.word_pooled import (
    EOW,
    PAD,
    WordLMConfig,
    WordPooledLM,
    split_words,
    train_word_lm,
    word_bits_per_byte,
    word_table,
)

TINY = WordLMConfig(
    dim=32, depth=1, heads=2, context=8, local_dim=16, local_heads=2, max_word=6, steps=25, lr=1e-2
)


@given(st.binary(max_size=200), st.integers(1, 8))
def test_split_words_is_lossless(data, max_word):
    words = split_words(data, max_word)
    assert b"".join(words) == data and all(0 < len(w) <= max_word for w in words)


def test_word_table_layout():
    t = word_table([b" ab", b"c"], 4)
    assert t.tolist() == [[32, 97, 98, EOW, PAD], [99, EOW, PAD, PAD, PAD]]


def test_later_words_do_not_change_earlier_predictions():
    torch.manual_seed(0)
    model = WordPooledLM(TINY).eval()
    a = torch.from_numpy(
        word_table(split_words(b"one two three four five six seven eight", 6), 6).astype(np.int64)
    )
    b = a.clone()
    b[-1, :3] = torch.tensor([120, 121, EOW])
    b[-1, 3:] = PAD
    la, lb = model(a[None]), model(b[None])
    assert torch.allclose(la[:, :-1], lb[:, :-1], atol=1e-6)  # targets 1..K-2 see only words before them
    assert not torch.allclose(la[:, -1], lb[:, -1])  # the last target's own bytes are its decoder's inputs


def test_learns_repetitive_text_and_bits_per_byte():
    text = b"the cat sat on the mat. " * 12
    table = word_table(split_words(text, TINY.max_word), TINY.max_word)
    torch.manual_seed(0)
    model = WordPooledLM(TINY)
    before = word_bits_per_byte(model, table)
    losses = train_word_lm(model, table)
    after = word_bits_per_byte(model, table)
    assert math.isfinite(after) and after < 0.5 * before and losses[-1] < losses[0]
