"""BLT's encoder pieces (hash n-gram embeddings, cross-attention pooling) and the word-pooled LM that uses them."""

import math

import numpy as np
import pytest
import torch

from tokzoo.text.blt_encoder import (
    HASH_BASE,
    HASH_MODULUS,
    HashNgramEmbedding,
    PatchCrossAttention,
    ngram_hashes,
)
from tokzoo.text.patching import fixed_patches, patch_pieces
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

BLT = WordLMConfig(
    dim=32,
    depth=1,
    heads=2,
    context=8,
    local_dim=16,
    local_heads=2,
    max_word=6,
    steps=25,
    lr=1e-2,
    pooling="cross",
    hash_ngrams=(2, 3),
    hash_buckets=64,
)


def _reference_hash(row: list[int], n: int, buckets: int, boundary: int) -> list[int]:
    padded = [boundary] * (n - 1) + row
    out = []
    for j in range(len(row)):
        h = sum(x * HASH_BASE ** (n - 1 - i) for i, x in enumerate(padded[j : j + n]))
        out.append(h % HASH_MODULUS % buckets)
    return out


def test_hash_by_hand_deterministic_and_in_range():
    # window [b, x_j]: b * base + x_j with boundary 0 -> 1, 1_000_005, 2_000_009 -> mod 1000: 1, 5, 9
    assert ngram_hashes(torch.tensor([[1, 2, 3]]), 2, 1000, 0).tolist() == [[1, 5, 9]]
    gen = torch.Generator().manual_seed(0)
    tokens = torch.randint(0, 260, (3, 40), generator=gen)
    for n in (1, 3, 8):
        h = ngram_hashes(tokens, n, 97, 259)
        assert h.shape == tokens.shape and h.dtype == torch.int64
        assert torch.equal(h, ngram_hashes(tokens.clone(), n, 97, 259))
        assert int(h.min()) >= 0 and int(h.max()) < 97
        assert h.tolist() == [_reference_hash(r, n, 97, 259) for r in tokens.tolist()]
    assert len(set(ngram_hashes(tokens, 3, 1 << 20, 259).flatten().tolist())) > 100  # spreads over buckets


def test_ngram_depends_only_on_the_last_n_bytes():
    gen = torch.Generator().manual_seed(1)
    tokens = torch.randint(0, 256, (2, 30), generator=gen)
    other = tokens.clone()
    other[:, 5] = (other[:, 5] + 1) % 256
    for n in (1, 3, 5):
        a, b = ngram_hashes(tokens, n, 1 << 20, 259), ngram_hashes(other, n, 1 << 20, 259)
        assert torch.equal(a[:, :5], b[:, :5]) and torch.equal(a[:, 5 + n :], b[:, 5 + n :])
        assert (a[:, 5 : 5 + n] != b[:, 5 : 5 + n]).all()
    emb = HashNgramEmbedding(8, (2, 4), 128, boundary=259)
    ea, eb = emb(tokens), emb(other)
    assert ea.shape == (2, 30, 8)
    assert torch.equal(ea[:, 9:], eb[:, 9:]) and not torch.allclose(ea[:, 5], eb[:, 5])


def _patch_ids(lengths: list[int], total: int) -> torch.Tensor:
    ids = torch.repeat_interleave(torch.arange(len(lengths)), torch.tensor(lengths))
    return torch.cat([ids, torch.full((total - len(ids),), -1)])


def test_cross_attention_pooling_sees_only_its_own_patch():
    torch.manual_seed(0)
    pool = PatchCrossAttention(16, 2).eval()
    lengths = [3, 4, 2, 3]
    ids = _patch_ids(lengths, 14)[None].repeat(2, 1)  # 12 bytes + 2 padding
    states = torch.randn(2, 14, 16)
    out = pool(states, ids, 5)  # patch 4 has no bytes
    assert out.shape == (2, 5, 16) and torch.isfinite(out).all()
    assert torch.equal(out[:, 4], torch.zeros(2, 16))
    for p, (start, n) in enumerate(zip(np.cumsum([0, *lengths[:-1]]), lengths, strict=True)):
        alone = pool(states[:, start : start + n], torch.zeros(2, n, dtype=torch.long), 1)
        assert torch.allclose(out[:, p], alone[:, 0], atol=1e-5)  # the same as pooling its bytes alone
    later = states.clone()
    later[:, 7:] += torch.randn(2, 7, 16)  # patches 2, 3 and the padding
    changed = pool(later, ids, 5)
    assert torch.equal(out[:, :2], changed[:, :2])  # earlier patches unchanged, bit for bit
    assert not torch.allclose(out[:, 2:4], changed[:, 2:4])
    mean = PatchCrossAttention(16, 2, pool="mean").eval()
    assert torch.isfinite(mean(states, ids, 5)).all()


def test_model_encoder_is_patch_local_and_causal():
    torch.manual_seed(0)
    model = WordPooledLM(BLT).eval()
    a = torch.from_numpy(
        word_table(split_words(b"one two three four five six seven eight", 6), 6).astype(np.int64)
    )
    b = a.clone()
    b[-2:, :3] = torch.tensor([120, 121, EOW])  # rewrite the last two words
    b[-2:, 3:] = PAD
    va, vb = model.encode(a[None]), model.encode(b[None])
    assert torch.equal(va[:, :-2], vb[:, :-2]) and not torch.allclose(va[:, -2:], vb[:, -2:])
    la, lb = model(a[None]), model(b[None])
    assert torch.allclose(la[:, :-2], lb[:, :-2], atol=1e-6)  # targets before the rewritten words
    c = a.clone()
    c[0, 1] = 33  # a byte of the first word: no other word's vector moves (n-grams stop at the word start)
    vc = model.encode(c[None])
    assert torch.equal(va[:, 1:], vc[:, 1:]) and not torch.allclose(va[:, 0], vc[:, 0])


def test_shapes_with_padding_and_default_is_cls():
    data = b"a bb ccc dddddddd e\n  ff"
    table = word_table(patch_pieces(data, fixed_patches(len(data), 3), 6), 6)
    assert (table == PAD).any()
    torch.manual_seed(0)
    model = WordPooledLM(BLT)
    words = torch.from_numpy(table[:8].astype(np.int64))[None].repeat(3, 1, 1)
    assert model.encode(words).shape == (3, 8, BLT.local_dim)
    logits = model(words)
    assert logits.shape == (3, 7, 7, EOW + 1) and torch.isfinite(logits).all()
    default = WordPooledLM(WordLMConfig(max_word=6))
    assert default.pool is None and default.hashes is None


def test_blt_encoder_learns():
    text = b"the cat sat on the mat. " * 12
    table = word_table(patch_pieces(text, fixed_patches(len(text), 4), BLT.max_word), BLT.max_word)
    torch.manual_seed(0)
    model = WordPooledLM(BLT)
    before = word_bits_per_byte(model, table)
    losses = train_word_lm(model, table)
    after = word_bits_per_byte(model, table)
    assert math.isfinite(after) and after < 0.5 * before
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])
    assert model.hashes.table.weight.grad is not None  # the hash tables are trained


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: ngram_hashes(torch.zeros(1, 4, dtype=torch.long), 0, 8, 0),
            "n-gram size must be at least 1",
        ),
        (lambda: ngram_hashes(torch.zeros(1, 4, dtype=torch.long), 2, 0, 0), "buckets must be at least 1"),
        (lambda: ngram_hashes(torch.zeros(1, 4), 2, 8, 0), "integer ids"),
        (lambda: HashNgramEmbedding(8, ()), "at least one n-gram size"),
        (lambda: HashNgramEmbedding(8, (3, 0)), "at least 1"),
        (lambda: HashNgramEmbedding(8, (3, 3)), "distinct"),
        (lambda: HashNgramEmbedding(8, (3,), 0), "buckets must be at least 1"),
        (lambda: PatchCrossAttention(10, 4), "not divisible"),
        (lambda: PatchCrossAttention(8, 2, pool="min"), "'max' or 'mean'"),
        (
            lambda: PatchCrossAttention(8, 2)(torch.zeros(1, 4, 8), torch.zeros(1, 3, dtype=torch.long), 1),
            "patch ids",
        ),
        (lambda: WordLMConfig(pooling="avg"), "pooling must be one of"),
        (lambda: WordLMConfig(hash_ngrams=(3, 0)), "at least 1"),
        (lambda: WordLMConfig(hash_ngrams=(3,), hash_buckets=0), "buckets must be at least 1"),
    ],
)
def test_bad_arguments_give_one_line_errors(make, message):
    with pytest.raises(ValueError, match=message) as err:
        make()
    assert "\n" not in str(err.value)
