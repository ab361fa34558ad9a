"""Flexible-length tokenizers: prefix property, masked batches, samplers, a training step per model × quantizer."""

import pytest
import torch

import tokzoo
from tokzoo.core.tokens import Tokens
from tokzoo.nn.token_drop import pow2_lengths, redundant_fill, sample_keep_lengths

TINY = dict(
    image_size=32, patch_size=8, width=32, encoder_depth=1, decoder_depth=1, heads=2, codebook_size=64
)
FLEX_1D = ["onedpiece-t-16", "flex-t-16", "retok-t-16"]


def tiny(name, **overrides):
    extra = {"num_tokens": 8} if name.split("-")[0] in {"titok", "onedpiece", "flex", "retok"} else {}
    if name.startswith(("hieratok", "matryoshka")):
        extra = {"scales": (1, 2, 4)}
    if overrides.get("quantizer", "vq") != "vq":
        extra["codebook_size"] = tokzoo.create(name).cfg.codebook_size  # a vq option: the preset's value
    return tokzoo.create(name, **{**TINY, **extra, **overrides})


def trained_a_little(model, steps=2):
    """A few optimizer steps so that tokens and decoder are not at their random initialisation."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(steps):
        loss, _ = model.loss(torch.rand(2, 3, 32, 32))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


@pytest.mark.parametrize("name", FLEX_1D)
def test_prefix_property(name):
    model = trained_a_little(tiny(name))
    x = torch.rand(3, 3, 32, 32)
    with torch.no_grad():
        full = model.encode(x)
        for k in (1, 3, 8):
            short = model.encode(x, num_tokens=k)
            assert torch.equal(short.ids, full.ids[:, :k]) and short.lengths.tolist() == [k] * 3
            truncated = Tokens(
                full.ids, torch.full((3,), k), full.vocab_size, full.layout, full.shape, full.meta
            )
            assert torch.allclose(model.decode(truncated), model.decode(short), atol=1e-6)


def test_prefix_decodes_differ_with_length():
    """The key-padding mask must actually hide the tail: decoding 1 vs 8 tokens gives different images."""
    model = trained_a_little(tiny("flex-t-16"))
    with torch.no_grad():
        x = torch.rand(1, 3, 32, 32)
        assert not torch.allclose(model.reconstruct(x, num_tokens=1), model.reconstruct(x, num_tokens=8))


def test_causal_registers_make_prefixes_independent_of_later_tokens():
    """FlexTok's causal latents: the first k latents do not change when the latents after them change."""
    model = trained_a_little(tiny("flex-t-16")).eval()
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        before = model._run_encoder(x)[:, -8:]
        # random, not a constant: a pre-norm transformer cannot see a constant added to every channel
        model.latents[5:] += torch.randn_like(model.latents[5:])
        after = model._run_encoder(x)[:, -8:]
    assert torch.allclose(before[:, :5], after[:, :5], atol=1e-6)
    assert not torch.allclose(before[:, 5:], after[:, 5:])


@pytest.mark.parametrize(("name", "lengths"), [
    ("flex-t-16", [1, 5, 8, 3]), ("onedpiece-t-16", [8, 2, 2, 7]), ("retok-t-16", [4, 1, 8, 6]),
    ("titok-t-16", [8, 3, 1, 8]), ("hieratok-t", [1, 21, 5, 21]), ("matryoshka-t", [16, 1, 4, 16]),
])  # fmt: skip
def test_batched_variable_lengths_equal_unbatched(name, lengths):
    model = trained_a_little(tiny(name, scale_drop=True) if name == "hieratok-t" else tiny(name))
    x = torch.rand(4, 3, 32, 32)
    with torch.no_grad():
        if name == "matryoshka-t":  # each budget is its own encoding: assemble a mixed batch by hand
            per = [model.encode(x[i : i + 1], num_tokens=n) for i, n in enumerate(lengths)]
            ids = torch.zeros(4, 16, dtype=torch.int64)
            for i, t in enumerate(per):
                ids[i, : lengths[i]] = t.ids[0]
            ref = per[0]
        else:
            ref = model.encode(x)
            ids, per = ref.ids, None
        batch = Tokens(ids, torch.tensor(lengths), ref.vocab_size, ref.layout, ref.shape, ref.meta)
        together = model.decode(batch)
        for i in range(4):
            alone = model.decode(per[i] if per else batch[i])
            assert torch.allclose(together[i], alone[0], atol=1e-5), f"sample {i} differs"


def test_hieratok_scale_prefixes():
    model = trained_a_little(tiny("hieratok-t", scale_drop=True))
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        full = model.encode(x)
        assert full.layout == "multiscale" and full.ids.shape == (2, 21)
        five = model.encode(x, num_tokens=5)
        truncated = Tokens(
            full.ids, torch.tensor([5, 5]), full.vocab_size, full.layout, full.shape, full.meta
        )
        assert torch.allclose(model.decode(truncated), model.decode(five), atol=1e-6)
        with pytest.raises(ValueError, match="one of"):
            model.encode(x, num_tokens=6)
    with pytest.raises(ValueError, match="one of"):
        tiny("hieratok-t").encode(x, num_tokens=5)  # without scale_drop only all scales


def test_matryoshka_counts_and_errors():
    model = tiny("matryoshka-t").eval()
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        for n in (1, 4, 16):
            assert model.encode(x, num_tokens=n).ids.shape == (2, n)
        with pytest.raises(ValueError, match="one of"):
            model.encode(x, num_tokens=8)
        bad = Tokens(torch.zeros(1, 16, dtype=torch.int64), torch.tensor([9]), 64, "matryoshka", (1, 2, 4))
        with pytest.raises(tokzoo.DataError, match="one of"):
            model.decode(bad)


def test_fixed_titok_refuses_other_lengths_but_decodes_truncations():
    model = tiny("titok-t-16").eval()
    x = torch.rand(1, 3, 32, 32)
    with pytest.raises(ValueError, match="fixed-length"):
        model.encode(x, num_tokens=4)
    with pytest.raises(ValueError, match=r"in \[1, 8\]"):
        tiny("flex-t-16").encode(x, num_tokens=9)
    t = model.encode(x)
    with torch.no_grad():
        assert model.decode(Tokens(t.ids, torch.tensor([4]), t.vocab_size)).shape == x.shape
    with pytest.raises(tokzoo.DataError, match=r"1\.\.8 tokens"):
        model.decode(Tokens(torch.zeros(1, 9, dtype=torch.int64), torch.tensor([9]), t.vocab_size))


def test_samplers():
    torch.manual_seed(0)
    assert pow2_lengths(32) == [1, 2, 4, 8, 16, 32] and pow2_lengths(24) == [1, 2, 4, 8, 16, 24]
    u = sample_keep_lengths(4000, 16, "uniform", min_tokens=2)
    assert int(u.min()) == 2 and int(u.max()) == 16 and len(set(u.tolist())) == 15
    p = sample_keep_lengths(4000, 32, "pow2")
    counts = torch.bincount(p, minlength=33)[[1, 2, 4, 8, 16, 32]]
    assert set(p.tolist()) == {1, 2, 4, 8, 16, 32} and int(counts.min()) > 550  # ~667 each
    m = sample_keep_lengths(8000, 32, "mixed")
    mc = torch.bincount(m, minlength=33)
    assert set(m.tolist()) == set(range(1, 33))  # every length is trained, not only the powers of two
    assert 700 < int(mc[8]) < 890 and 80 < int(mc[9]) < 180  # 8: 1/2·1/6 + 1/2·1/32 ≈ 0.099; 9: 1/64
    assert sample_keep_lengths(3, 16, "none").tolist() == [16, 16, 16]
    with pytest.raises(tokzoo.ConfigError, match="schedule"):
        sample_keep_lengths(3, 16, "linear")


def test_redundant_fill_tiles_the_prefix():
    z = torch.arange(6.0).view(1, 6, 1).repeat(2, 1, 1)
    out = redundant_fill(z, torch.tensor([2, 6]))
    assert out[0, :, 0].tolist() == [0, 1, 0, 1, 0, 1] and out[1, :, 0].tolist() == [0, 1, 2, 3, 4, 5]


QUANTIZERS = [
    ("vq", {}, 64),
    ("fsq", {"levels": [4, 4, 4]}, 64),
    ("lfq", {"bits": 6, "entropy_weight": 0.1}, 64),
    ("gq", {"bits": 6, "groups": 2}, 64),
    ("bsq", {"bits": 6}, 64),
    ("dual", {"codebook_size": 32}, 32),
]
MODELS = ["titok-t-16", "onedpiece-t-16", "flex-t-16", "retok-t-16", "hieratok-t", "matryoshka-t"]


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize(("quantizer", "options", "vocab"), QUANTIZERS, ids=[q[0] for q in QUANTIZERS])
def test_training_step_each_model_and_quantizer(name, quantizer, options, vocab):
    model = tiny(name, quantizer=quantizer, quantizer_options=options)
    before = [p.detach().clone() for p in model.parameters()]
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss, logs = model.loss(torch.rand(2, 3, 32, 32))
    opt.zero_grad()
    loss.backward()
    opt.step()
    assert torch.isfinite(loss) and {"psnr", "usage", "kept_tokens"} <= set(logs)
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    assert model.encoder.blocks[0].attn.qkv.weight.grad.abs().sum() > 0  # gradients reach the encoder
    model.eval()
    with torch.no_grad():
        tokens = model.encode(torch.rand(1, 3, 32, 32))
        assert tokens.vocab_size == vocab == model.vocab_size and int(tokens.ids.max()) < vocab
        assert model.decode(tokens).shape == (1, 3, 32, 32)


def test_bottleneck_kinds_on_the_1d_tokenizer():
    """Through tokzoo.quant.Bottleneck: residual depths at fixed length, continuous (KL) values with prefixes."""
    x = torch.rand(2, 3, 32, 32)
    rvq = tiny("titok-t-16", quantizer="rvq", quantizer_options={"num_quantizers": 3, "codebook_size": 64})
    rvq.loss(x)[0].backward()
    rvq.eval()
    with torch.no_grad():
        t = rvq.encode(x)
        assert t.layout == "seq1d+depth" and t.shape == (8, 3) and t.nbits() == 2 * 24 * 6
        assert rvq.decode(t).shape == x.shape
    kl = trained_a_little(tiny("flex-t-16", quantizer="kl"))
    with torch.no_grad():
        full, three = kl.encode(x), kl.encode(x, num_tokens=3)
        assert kl.vocab_size is None and three.values.shape == (2, 3, 32)
        cut = Tokens(
            full.ids,
            torch.tensor([3, 3]),
            full.vocab_size,
            full.layout,
            full.shape,
            full.meta,
            values=full.values,
        )
        assert torch.allclose(kl.decode(cut), kl.decode(three), atol=1e-6)


def test_unsupported_quantizer_kinds_refused():
    with pytest.raises(tokzoo.ConfigError, match="drop_schedule none"):
        tiny("flex-t-16", quantizer="rvq")
    with pytest.raises(tokzoo.ConfigError, match="hieratok"):
        tiny("titok-t-16", quantizer="msrq")
    with pytest.raises(tokzoo.ConfigError, match="one id per token"):
        tiny("matryoshka-t", quantizer="rvq")
