"""The bottleneck adapter: every registered quantizer on (B, N, D) latents -> Tokens -> .tok -> latents."""

from __future__ import annotations

import math
from itertools import pairwise

import pytest
import torch

from tokzoo.core.bitpack import sequence_bits
from tokzoo.core.errors import ConfigError, DataError
from tokzoo.core.tokens import Tokens
from tokzoo.quant import Bottleneck, list_quantizers
from tokzoo.quant.ptq import NotFittedError

DIM = 8
SIDE = 4  # a 4x4 grid of positions (N = 16)
# Small options per quantizer; a quantizer registered later without an entry is tested with its defaults.
OPTIONS: dict[str, dict] = {
    "vq": {"codebook_size": 32},
    "fsq": {"levels": [5, 4, 3]},
    "lfq": {"bits": 6},
    "gq": {"bits": 6, "groups": 2},
    "bsq": {"bits": 6},
    "rvq": {"num_quantizers": 3, "codebook_size": 16},
    "msrq": {"scales": (1, 2, 4), "codebook_size": 16},
    "msrq1d": {"scales": (1, 4, 16), "codebook_size": 16},
    "kl": {"latent_dim": 3},
    "ptq": {"bins": 8},
    "dual": {"codebook_size": 16},
}
# How the N = 16 positions are laid out for each quantizer: the 4x4 grid, except for 1-D-only quantizers.
POSITIONS: dict[str, tuple[int, ...]] = {"msrq1d": (SIDE * SIDE,)}


def bottleneck(name: str, **kw) -> Bottleneck:
    torch.manual_seed(0)
    b = Bottleneck.build(name, DIM, **OPTIONS.get(name, {}), **kw)
    if b.quantizer.post_training:
        b.fit(torch.randn(512, DIM))
    b.quantizer.eval()
    return b


def latents(batch: int = 2, seed: int = 1) -> torch.Tensor:
    return torch.randn(batch, SIDE * SIDE, DIM, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("name", list_quantizers())
def test_encode_save_load_decode_round_trip(name: str, tmp_path):
    b = bottleneck(name)
    z = latents()
    shape = POSITIONS.get(name, (SIDE, SIDE))
    tokens = b.encode(z, shape, meta={"m": 1})
    path = tmp_path / "t.tok"
    tokens.save(path)
    back = Tokens.load(path)
    assert back.equal(tokens) and back.nbits() == tokens.nbits()
    with torch.no_grad():
        decoded = b.decode(back)
        assert torch.equal(decoded, b.decode(tokens))
        assert decoded.shape == z.shape and b.positions(back) == shape
        # decoding the tokens gives (up to float16 storage of continuous values) what the eval forward gives
        expected = b(z, shape).latents
    tol = 2e-3 if b.kind == "continuous" else 1e-5
    torch.testing.assert_close(decoded, expected, atol=tol, rtol=tol)


@pytest.mark.parametrize("name", list_quantizers())
def test_layout_shape_and_exact_bits(name: str):
    b = bottleneck(name)
    tokens = b.encode(latents(), POSITIONS.get(name, (SIDE, SIDE)))
    q, n = b.quantizer, SIDE * SIDE
    if b.kind == "single":
        assert (tokens.layout, tokens.shape) == ("grid2d", (SIDE, SIDE))
        assert tokens.nbits() == 2 * sequence_bits(n, q.codebook_size)
        assert tokens.nbits() <= 2 * math.ceil(n * math.log2(q.codebook_size)) + 2 * 2  # mixed radix
    elif b.kind == "depth":
        depth = q.num_quantizers if name == "rvq" else DIM
        assert (tokens.layout, tokens.shape) == ("grid2d+depth", (SIDE, SIDE, depth))
        assert tokens.nbits() == 2 * n * depth * int(math.log2(q.codebook_size))
    elif name == "msrq1d":  # 1-D sequences of 1, 4 and 16 tokens
        assert (tokens.layout, tokens.shape) == ("multiscale1d", (1, 4, 16))
        assert tokens.nbits() == 2 * (1 + 4 + 16) * int(math.log2(q.codebook_size))
    elif b.kind == "multiscale":
        assert (tokens.layout, tokens.shape) == ("multiscale", (1, 2, 4))
        assert tokens.nbits() == 2 * (1 + 4 + 16) * int(math.log2(q.codebook_size))
    else:
        assert (tokens.layout, tokens.shape, tokens.vocab_size) == ("grid2d", (SIDE, SIDE), 1)
        assert b.vocab_size is None and q.bits_per_token is None
        assert tokens.value_channels == 3 and tokens.values.dtype == torch.float16
        assert tokens.nbits() == 2 * n * 3 * 16 and tokens.bits_per_token == 48


@pytest.mark.parametrize("name", ["vq", "rvq", "kl"])
def test_sequences_without_a_grid(name: str):
    b = bottleneck(name)
    z = torch.randn(3, 7, DIM)
    tokens = b.encode(z)
    assert tokens.layout.startswith("seq1d") and tokens.shape[:1] == (7,)
    assert b.positions(tokens) == (7,) and b.decode(tokens).shape == (3, 7, DIM)


def test_residual_depth_prefixes_decode_with_fewer_bits():
    b = bottleneck("rvq")
    z = latents()
    tokens = b.encode(z, (SIDE, SIDE))
    full_ids = b.quantizer(z).ids  # (B, N, K)
    for k in (1, 2, 3):
        part = b.truncate(Tokens.from_bytes(tokens.to_bytes()), k)
        assert part.shape == (SIDE, SIDE, k) and part.nbits() == 2 * 16 * k * 4
        torch.testing.assert_close(b.decode(part), b.quantizer.ids_to_latents(full_ids[..., :k]))
    with pytest.raises(DataError, match=r"1\.\.3 depths"):
        b.truncate(tokens, 4)


def test_quantizer_dropout_encodes_only_the_depths_used():
    b = bottleneck("rvq", quantizer_dropout=1.0)
    b.quantizer.train()
    depths = set()
    for seed in range(12):
        torch.manual_seed(seed)
        tokens = b.encode(latents(), (SIDE, SIDE))
        depth = tokens.shape[-1]
        depths.add(depth)
        assert int(tokens.lengths[0]) == 16 * depth and int(tokens.ids.min()) >= 0
        assert b.decode(tokens).shape == (2, 16, DIM)
    assert min(depths) < 3


def test_multiscale_error_falls_with_every_scale_kept():
    # As in test_quant_residual: a dense 2-D codebook grid makes each lookup nearly exact, and a smooth input
    # makes every scale's low-pass part explain most of the residual.
    b = Bottleneck.build("msrq", 2, scales=(1, 2, 4, 8), codebook_size=64 * 64)
    g = torch.linspace(-3, 3, 64)
    with torch.no_grad():
        b.quantizer.vq.codebook.weight.copy_(
            torch.stack(torch.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
        )
    b.quantizer.eval()
    coarse = torch.randn(2, 2, 2, 2, generator=torch.Generator().manual_seed(0))
    z = torch.nn.functional.interpolate(coarse, size=(8, 8), mode="bilinear", align_corners=False)
    z = z.permute(0, 2, 3, 1).reshape(2, 64, 2)
    tokens = Tokens.from_bytes(b.encode(z, (8, 8)).to_bytes())
    with torch.no_grad():
        errs = [float(z.pow(2).mean())]
        for k in range(1, 5):
            part = b.truncate(tokens, k)
            assert part.shape == (1, 2, 4, 8)[:k] and part.num_tokens == 2 * sum(s * s for s in part.shape)
            errs.append(float((b.decode(part) - z).pow(2).mean()))
    assert all(e1 < e0 for e0, e1 in pairwise(errs)), errs


def test_multiscale_1d_sequence_tokens_truncate_and_refuse_other_tokens():
    b = bottleneck("msrq1d")
    z = latents()
    tokens = Tokens.from_bytes(b.encode(z).to_bytes())  # shape None: a 1-D sequence of 16 positions
    assert (tokens.layout, tokens.shape, tokens.ids.shape) == ("multiscale1d", (1, 4, 16), (2, 21))
    assert b.positions(tokens) == (16,) and b.decode(tokens).shape == (2, 16, DIM)
    part = b.truncate(tokens, 2)
    assert part.shape == (1, 4) and part.ids.shape == (2, 5) and part.nbits() == 2 * 5 * 4
    with torch.no_grad():
        torch.testing.assert_close(b.decode(part), b.quantizer.ids_to_latents(tokens.ids, num_scales=2))
    with pytest.raises(DataError, match="needs a sequence of 16 positions"):
        b.encode(z, (SIDE, SIDE))
    with pytest.raises(DataError, match="expected multiscale tokens"):  # 2-D maps are not 1-D sequences
        b.decode(Tokens.from_ids(torch.zeros(2, 21, dtype=torch.long), 16, "multiscale", (1, 2, 4)))
    with pytest.raises(DataError, match="one id per position"):
        Bottleneck.build("vq", DIM, codebook_size=16).decode(tokens)


def test_continuous_values_as_float32_and_variable_lengths():
    b = bottleneck("kl", value_dtype="float32")
    z = latents()
    lengths = torch.tensor([16, 5])
    tokens = Tokens.from_bytes(b.encode(z, lengths=lengths).to_bytes())
    assert tokens.values.dtype == torch.float32 and tokens.nbits() == (16 + 5) * 3 * 32
    with torch.no_grad():
        out = b.decode(tokens)
        expected = b(z).latents
    torch.testing.assert_close(out[0], expected[0])
    torch.testing.assert_close(out[1, :5], expected[1, :5])
    assert bool((out[1, 5:] == 0).all())


def test_single_id_variable_lengths_store_only_valid_tokens():
    b = bottleneck("vq")
    tokens = b.encode(latents(), lengths=torch.tensor([3, 16]))
    assert tokens.nbits() == (3 + 16) * 5
    out = b.decode(Tokens.from_bytes(tokens.to_bytes()))
    assert bool((out[0, 3:] == 0).all()) and bool((out[0, :3] != 0).any())


def test_post_training_quantizer_passes_through_until_fitted():
    b = Bottleneck.build("ptq", DIM, bins=4)
    z = latents().requires_grad_(True)
    out = b(z, (SIDE, SIDE))
    assert out.latents is z and out.ids is None and math.isnan(float(out.stats["usage"]))
    with pytest.raises(NotFittedError):
        b.encode(z)
    b.fit(torch.randn(1000, DIM))
    assert b(z).latents is z  # training mode: still the continuous path
    b.quantizer.eval()
    out = b(z)
    assert out.ids.shape == (2, 16, DIM) and float(out.stats["usage"]) > 0
    tokens = b.encode(z)
    assert tokens.shape == (16, DIM) and tokens.vocab_size == 4
    with pytest.raises(DataError, match="all 8 per-dimension ids"):
        b.decode(b.truncate(tokens, 2))
    with pytest.raises(ConfigError, match="not fitted afterwards"):
        bottleneck("vq").fit(z)


def test_mismatched_inputs_and_tokens_are_clear_errors():
    vq, rvq, msrq, kl = (bottleneck(n) for n in ("vq", "rvq", "msrq", "kl"))
    z = latents()
    with pytest.raises(DataError, match=r"\(B, N, D\)"):
        vq.encode(z[0])
    with pytest.raises(DataError, match="does not hold the 16 positions"):
        vq.encode(z, (3, 5))
    with pytest.raises(DataError, match="needs a 4x4 latent grid"):
        msrq.encode(torch.randn(2, 8, DIM), (2, 4))
    with pytest.raises(DataError, match="vocabulary"):
        Bottleneck.build("vq", DIM, codebook_size=64).decode(vq.encode(z))
    with pytest.raises(DataError, match="one id per position"):
        Bottleneck.build("vq", DIM, codebook_size=16).decode(rvq.encode(z))
    with pytest.raises(DataError, match="continuous tokens with 3 values"):
        kl.decode(vq.encode(z))
    with pytest.raises(DataError, match="expected depth tokens"):
        rvq.decode(Tokens.from_ids(torch.zeros(2, 16, dtype=torch.long), 16, "grid2d", (4, 4)))
    with pytest.raises(DataError, match="variable lengths"):
        rvq.encode(z, lengths=torch.tensor([3, 16]))
    with pytest.raises(DataError, match="no depths or scales"):
        vq.truncate(vq.encode(z), 1)
    with pytest.raises(ConfigError, match="value_dtype"):
        Bottleneck.build("kl", DIM, value_dtype="bfloat16")
