"""The registry, and every registered 2D grid tokenizer: shapes, bits, input errors, and the grid tokenizer with
every quantizer as its bottleneck (every registered name's round trip and save/load: test_every_model.py)."""

import pytest
import torch

import tokzoo
from tokzoo.core.errors import DataError

GRID = tokzoo.list("vq-*")  # the 2D grid family; others have their own generic tests


def test_registry_lists_models():
    assert GRID == ["vq-f16-b", "vq-f4-s", "vq-f8-b", "vq-f8-s"] and set(GRID) < set(tokzoo.list())
    assert tokzoo.list("*f8*") == ["fsq-f8-s", "fsq-f8-s-lo", "vq-f8-b", "vq-f8-s"]
    assert tokzoo.list(modality="audio") == []


def test_unknown_name_is_a_clear_error():
    with pytest.raises(tokzoo.RegistryError, match="unknown tokenizer 'vq-f9-s'"):
        tokzoo.create("vq-f9-s")


def test_duplicate_registration_refused():
    with pytest.raises(tokzoo.RegistryError, match="registered twice"):
        tokzoo.register_tokenizer(lambda **kw: None, name="vq-f8-s")


@pytest.mark.parametrize("name", GRID)
def test_encode_decode_shapes_and_bits(name):
    model = tokzoo.create(name).eval()
    f = model.downsample_factor
    x = torch.rand(2, 3, 2 * f, 3 * f)
    tokens = model.encode(x)
    assert tokens.layout == "grid2d" and tokens.shape == (2, 3)
    assert tokens.ids.shape == (2, 6) and int(tokens.ids.max()) < model.vocab_size
    assert tokens.nbits() == 2 * 6 * (model.vocab_size.bit_length() - 1)  # power-of-two vocabularies
    with torch.no_grad():
        y = model.decode(tokens)
    assert y.shape == x.shape and float(y.min()) >= 0 and float(y.max()) <= 1
    loss, logs = model.loss(x)
    assert loss.ndim == 0 and torch.isfinite(loss)
    assert {"usage", "perplexity", "entropy_bits", "psnr"} <= set(logs)


def test_fixed_length_refuses_other_token_counts():
    model = tokzoo.create("vq-f8-s")
    with pytest.raises(ValueError, match="fixed-length"):
        model.encode(torch.rand(1, 3, 16, 16), num_tokens=3)


@pytest.mark.parametrize(
    ("x", "match"),
    [
        (torch.rand(1, 3, 4, 4), "too small"),
        (torch.rand(1, 3, 20, 16), "not a multiple"),
        (torch.rand(1, 1, 16, 16), "channels"),
        (torch.randint(0, 255, (1, 3, 16, 16), dtype=torch.uint8), "float"),
        (torch.rand(3, 16, 16), r"\(B, C, H, W\)"),
    ],
)
def test_bad_image_input(x, match):
    with pytest.raises(DataError, match=match):
        tokzoo.create("vq-f8-s").encode(x)


def test_decode_checks_vocabulary():
    a = tokzoo.create("vq-f8-s", codebook_size=64)
    b = tokzoo.create("vq-f8-s", codebook_size=128)
    with pytest.raises(DataError, match="vocabulary"):
        b.decode(a.encode(torch.rand(1, 3, 16, 16)))


@pytest.mark.parametrize(
    ("quantizer", "options", "vocab"),
    [
        ("fsq", {"levels": [8, 5, 5, 5]}, 1000),
        ("lfq", {"bits": 12, "entropy_weight": 0.1}, 4096),
        ("gq", {"bits": 12, "groups": 2}, 4096),
        ("bsq", {"bits": 10}, 1024),
        ("dual", {"codebook_size": 128}, 128),
        ("vq", {"ema": True, "kmeans_init": True}, 1024),
    ],
)
def test_grid_tokenizer_with_any_single_id_quantizer(quantizer, options, vocab, tmp_path):
    model = tokzoo.create("vq-f8-s", ch=8, quantizer=quantizer, quantizer_options=options)
    loss, logs = model.loss(torch.rand(2, 3, 16, 16))
    loss.backward()
    assert torch.isfinite(loss) and "usage" in logs
    model.eval()
    x = torch.rand(2, 3, 16, 24)
    tokens = model.encode(x)
    assert model.vocab_size == vocab and tokens.vocab_size == vocab and tokens.shape == (2, 3)
    loaded = tokzoo.load(model.save_pretrained(tmp_path / quantizer))
    assert loaded.encode(x).equal(tokens)
    with torch.no_grad():
        assert torch.equal(loaded.decode(tokens), model.decode(tokens))


# (quantizer, options, layout, shape, bits per image) on 16x16 images, i.e. a 2x2 latent grid
MULTI = [
    (
        "rvq",
        {"num_quantizers": 3, "codebook_size": 64, "quantizer_dropout": 0.5},
        "grid2d+depth",
        (2, 2, 3),
        72,
    ),
    ("msrq", {"scales": (1, 2), "codebook_size": 256}, "multiscale", (1, 2), 40),
    ("kl", {"latent_dim": 4}, "grid2d", (2, 2), 4 * 4 * 16),
    ("ptq", {"bins": 16}, "grid2d+depth", (2, 2, 64), 4 * 64 * 4),
]


@pytest.mark.parametrize(("quantizer", "options", "layout", "shape", "bits"), MULTI)
def test_grid_tokenizer_with_depth_multiscale_continuous_and_post_training(
    quantizer, options, layout, shape, bits, tmp_path
):
    torch.manual_seed(0)
    model = tokzoo.create("vq-f8-s", ch=8, quantizer=quantizer, quantizer_options=options)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand(2, 3, 16, 16)
    loss, logs = model.loss(x)
    loss.backward()
    opt.step()
    assert torch.isfinite(loss) and {"usage", "perplexity", "entropy_bits"} <= set(logs)
    assert all(p.grad is not None for p in model.encoder.parameters())
    model.eval()
    if quantizer == "ptq":
        with pytest.raises(tokzoo.TokzooError, match="fit"):
            model.encode(x)
        model.fit([torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16)])
    tokens = model.encode(x)
    assert (tokens.layout, tokens.shape, tokens.nbits()) == (layout, shape, 2 * bits)
    path = tmp_path / "x.tok"
    tokens.save(path)
    loaded = tokzoo.load(model.save_pretrained(tmp_path / quantizer))
    back = tokzoo.Tokens.load(path)
    assert loaded.encode(x).equal(tokens) and back.equal(tokens)
    with torch.no_grad():
        y = loaded.decode(back)
        assert y.shape == x.shape and torch.equal(y, model.decode(tokens))


def test_grid_tokenizer_coarse_prefixes_decode():
    model = tokzoo.create("vq-f8-s", ch=8, quantizer="rvq", quantizer_options={"num_quantizers": 3}).eval()
    tokens = model.encode(torch.rand(1, 3, 16, 16))
    coarse = model.bottleneck.truncate(tokens, 1)
    assert coarse.nbits() == tokens.nbits() // 3
    assert model.decode(coarse).shape == (1, 3, 16, 16)


def test_grid_tokenizer_refuses_unknown_quantizers_and_wrong_tokens():
    with pytest.raises(tokzoo.ConfigError, match=r"unknown quantizer 'xq'.*rvq"):
        tokzoo.create("vq-f8-s", quantizer="xq")
    model = tokzoo.create("vq-f8-s", ch=8)
    with pytest.raises(DataError, match="expected grid2d tokens"):
        model.decode(tokzoo.Tokens.from_ids(torch.zeros(1, 4, dtype=torch.long), 1024))
    msrq = tokzoo.create("vq-f8-s", ch=8, quantizer="msrq", quantizer_options={"scales": (1, 2)})
    with pytest.raises(DataError, match="2x2 latent grid"):
        msrq.encode(torch.rand(1, 3, 16, 24))


def test_reconstruction_loss_known_values():
    from tokzoo.nn.losses import reconstruction_loss

    x = torch.full((2, 3, 4, 4), 0.5)
    total, logs = reconstruction_loss(x, x, torch.tensor(0.25), l1_weight=0.5)
    assert float(total) == 0.25 and float(logs["psnr"]) == pytest.approx(100.0)
    total, logs = reconstruction_loss(x + 0.1, x, torch.tensor(0.0), l1_weight=0.5)
    assert float(logs["rec_mse"]) == pytest.approx(0.01) and float(logs["psnr"]) == pytest.approx(20.0)
    assert float(total) == pytest.approx(0.01 + 0.5 * 0.1)


def test_vq_options_with_another_quantizer_are_refused(tmp_path):
    with pytest.raises(
        tokzoo.ConfigError, match="codebook_size=64 does not apply: it is an option of quantizer vq"
    ):
        tokzoo.create("vq-f8-s", quantizer="fsq", codebook_size=64)
    with pytest.raises(tokzoo.ConfigError, match="vq-f8-s: unknown option 'bogus'"):
        tokzoo.create("vq-f8-s", bogus=1)
    model = tokzoo.create("vq-f8-s", quantizer="fsq", quantizer_options={"levels": [4, 4]})
    assert tokzoo.load(model.save_pretrained(tmp_path / "fsq")).cfg == model.cfg  # stored vq defaults load
