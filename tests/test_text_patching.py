"""Fixed and entropy patching at hand-worked thresholds; the byte LM's entropies feed the patcher."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from tokzoo.text.lm import CausalLM, LMConfig, bits_per_byte, next_token_entropies, train_lm
from tokzoo.text.patching import entropy_patches, fixed_patches, patch_pieces


def test_fixed_patches():
    assert fixed_patches(10, 4).tolist() == [4, 4, 2]
    assert fixed_patches(8, 4).tolist() == [4, 4]
    assert fixed_patches(0, 4).tolist() == []
    with pytest.raises(ValueError):
        fixed_patches(3, 0)


def test_entropy_patches_global_and_relative():
    h = np.array([3.0, 0.5, 0.4, 2.0, 2.5, 0.1, 1.9])
    # global: starts where H > 1.5 -> 0, 3, 4, 6
    assert entropy_patches(h, 1.5, "global").tolist() == [3, 1, 2, 1]
    # relative: starts where H rises by > 1.0 over the previous byte -> 0, 3 (0.4 -> 2.0), 6 (0.1 -> 1.9)
    assert entropy_patches(h, 1.0, "relative").tolist() == [3, 3, 1]
    # a higher threshold gives fewer, longer patches; the lengths always cover every byte
    for t in (0.0, 1.0, 2.0, 4.0):
        assert entropy_patches(h, t).sum() == len(h)
    assert entropy_patches(h, 10.0).tolist() == [7]
    with pytest.raises(ValueError, match="mode"):
        entropy_patches(h, 1.0, "local")


@given(st.binary(max_size=200), st.data(), st.integers(1, 9))
def test_patch_pieces_partition_the_bytes(data, draw, max_len):
    cuts = (
        sorted(draw.draw(st.sets(st.integers(1, max(1, len(data) - 1)), max_size=20)))
        if len(data) > 1
        else []
    )
    lengths = np.diff([0, *cuts, len(data)]) if data else np.zeros(0, dtype=np.int64)
    pieces = patch_pieces(data, lengths, max_len)
    assert b"".join(pieces) == data and all(0 < len(p) <= max_len for p in pieces)
    assert len(pieces) >= len(lengths)  # every patch starts a piece


def test_patch_pieces_known_values_and_errors():
    assert patch_pieces(b"abcdefgh", np.array([3, 5]), 4) == [b"abc", b"defg", b"h"]
    with pytest.raises(ValueError, match="sum to 7, not the 8 bytes"):
        patch_pieces(b"abcdefgh", np.array([3, 4]), 4)
    with pytest.raises(ValueError, match="max_len"):
        patch_pieces(b"ab", np.array([2]), 0)


def test_byte_lm_learns_a_pattern_and_its_entropies_drop():
    torch.manual_seed(0)
    text = np.frombuffer(b"abcabcabcabd" * 200, dtype=np.uint8).astype(np.int64)
    cfg = LMConfig(dim=32, depth=1, heads=2, context=16, steps=40, batch=8, lr=1e-2)
    model = CausalLM(256, cfg)
    losses = train_lm(model, text)
    assert losses[-1] < losses[0] / 3
    h = next_token_entropies(model, text[:32].tolist())
    assert h[0] == pytest.approx(8.0) and h[1:].mean() < 2.0
    assert bits_per_byte(model, text, np.ones(len(text))) < 1.0


def test_glyph_embeddings_are_pictures_and_stay_frozen():
    from tokzoo.text.glyphs import glyph_embeddings, glyph_text

    assert glyph_text(b"a b\n") == "a␣b⏎" and glyph_text(b"\xc3") == "xC3" and glyph_text(None) == ""
    assert glyph_text(b"\x00\x1b") == "x00x1B"
    emb = glyph_embeddings([b"a", b"a", b"b", b"O", b"\x00", "🙂".encode()], 32)
    assert emb.shape == (6, 32) and torch.equal(emb[0], emb[1]) and not torch.equal(emb[0], emb[2])
    assert torch.allclose(emb.pow(2).mean(1), torch.ones(6), atol=1e-4)
    cfg = LMConfig(dim=32, depth=1, heads=2, context=8, steps=2, batch=2)
    model = CausalLM(6, cfg, frozen_embeddings=emb)
    before = model.embed.weight.clone()
    train_lm(model, np.arange(60) % 6)
    assert torch.equal(model.embed.weight, before) and not model.embed.weight.requires_grad
    with pytest.raises(ValueError, match="frozen embeddings"):
        CausalLM(7, cfg, frozen_embeddings=emb)


def test_mean_piece_length_counts_cut_pieces():
    from tokzoo.text.patching import mean_piece_length

    assert mean_piece_length(np.array([3, 5]), 4) == 8 / 3  # 3 | 4 + 1
    assert mean_piece_length(np.array([2, 2]), 16) == 2.0
    assert mean_piece_length(np.zeros(0, dtype=np.int64), 4) == 0.0


@given(
    st.lists(st.floats(0, 8, allow_nan=False), min_size=2, max_size=60),
    st.floats(1, 6),
    st.sampled_from(["global", "relative"]),
)
def test_threshold_for_size_is_the_closest_achievable(h, size, mode):
    from tokzoo.text.patching import mean_piece_length, threshold_for_size

    h = np.array(h)
    theta, got = threshold_for_size(h, size, mode, 6)
    assert got == mean_piece_length(entropy_patches(h, theta, mode), 6)
    stat = h if mode == "global" else np.diff(h)
    every = [mean_piece_length(entropy_patches(h, t, mode), 6) for t in [*np.unique(stat), stat.min() - 1]]
    assert abs(got - size) <= min(abs(m - size) for m in every) + 1e-12


def test_threshold_for_size_known_values_and_errors():
    from tokzoo.text.patching import threshold_for_size

    h = np.array([3.0, 0.5, 0.4, 2.0, 2.5, 0.1, 1.9])
    assert threshold_for_size(h, 7 / 4, "global", 16) == (0.5, 7 / 4)  # H > 0.5 at 0, 3, 4, 6
    assert threshold_for_size(h, 1.0, "global", 16)[1] == 1.0
    with pytest.raises(ValueError, match="target patch size"):
        threshold_for_size(h, 20, "global", 16)
    with pytest.raises(ValueError, match="at least 2"):
        threshold_for_size(h[:1], 1, "global", 16)


def test_overlapping_entropy_windows_give_every_prediction_its_context():
    torch.manual_seed(0)
    cfg = LMConfig(dim=16, depth=1, heads=2, context=8, steps=1, batch=2)
    model = CausalLM(256, cfg).eval()
    seq = torch.randint(0, 256, (37,))

    def reference(p: int) -> float:  # entropy of token p from at most `context` tokens before it
        logp = torch.log_softmax(model(seq[max(0, p - cfg.context) : p][None])[0, -1], -1)
        return float(-(logp.exp() * logp).sum() / np.log(2))

    with torch.no_grad():
        want = [8.0] + [reference(p) for p in range(1, len(seq))]
        sliding = next_token_entropies(model, seq.tolist(), min_context=cfg.context - 1, batch=5)
        assert np.allclose(sliding, want, atol=1e-5)
        # consecutive windows (the default): the token after a window edge is predicted from one token
        default = next_token_entropies(model, seq.tolist())
        logp = torch.log_softmax(model(seq[8:9][None])[0, -1], -1)
        assert default[9] == pytest.approx(float(-(logp.exp() * logp).sum() / np.log(2)), abs=1e-5)
        assert default[9] != pytest.approx(want[9], abs=1e-3)
        # half-overlapping windows in batches agree with one window at a time
        half = [next_token_entropies(model, seq.tolist(), min_context=4, batch=b) for b in (1, 3)]
        assert np.allclose(*half, atol=1e-5) and np.allclose(half[0][:9], want[:9], atol=1e-5)
    with pytest.raises(ValueError, match="min_context"):
        next_token_entropies(model, seq.tolist(), min_context=8)
