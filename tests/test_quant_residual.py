"""Residual, multi-scale, Gaussian, post-training and dual-codebook quantizers: the shared interface contract
(shapes, ids <-> latents, gradients, rate, determinism, bf16) and each method's defining property."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

import pytest
import torch

from tokzoo.core.errors import ConfigError
from tokzoo.quant.base import Quantizer
from tokzoo.quant.dual import DualCodebookVQ
from tokzoo.quant.kl import KLBottleneck, gaussian_kl
from tokzoo.quant.multiscale import MultiScaleResidualQuantizer, MultiScaleResidualQuantizer1d
from tokzoo.quant.ptq import NotFittedError, PostTrainingQuantizer
from tokzoo.quant.registry import build_quantizer
from tokzoo.quant.residual import ResidualVQ

STAT_KEYS = ("usage", "perplexity", "entropy_bits")


@dataclass
class Case:
    make: Callable[[], Quantizer]
    shape: tuple[int, ...]  # input shape
    ids_shape: tuple[int, ...] | None  # expected ids shape (None: continuous)
    bits: float | None  # expected bits_per_token
    levels: int = 0  # per-level stats expected (usage/0 ...)
    identity_grad: bool = False  # straight-through with no projection: d latents / d z == I


def _ptq(dim: int, bins: int) -> PostTrainingQuantizer:
    return PostTrainingQuantizer(dim, bins=bins).fit(torch.randn(2000, dim))


CASES = {
    "rvq": Case(lambda: ResidualVQ(8, 3, 16), (2, 5, 8), (2, 5, 3), 3 * 4.0, 3, True),
    "rvq-proj-dropout": Case(
        lambda: ResidualVQ(8, 2, 32, code_dim=4, quantizer_dropout=0.5), (3, 8), (3, 2), 2 * 5.0, 2
    ),
    "rvq-ema-kmeans-rotation": Case(
        lambda: ResidualVQ(6, 2, 16, ema=True, kmeans_init=True, grad="rotation"), (40, 6), (40, 2), 8.0, 2
    ),
    "msrq": Case(
        lambda: MultiScaleResidualQuantizer(4, (1, 2, 4), 32), (2, 4, 4, 4), (2, 21), 21 * 5.0, 3, True
    ),
    "msrq-phi-bilinear": Case(
        lambda: MultiScaleResidualQuantizer(
            3, (1, 3, 6), 16, phi_ratio=0.5, upsample="bilinear", quantizer_dropout=0.5
        ),
        (2, 6, 6, 3),
        (2, 46),
        46 * 4.0,
        3,
        True,
    ),
    "msrq1d": Case(
        lambda: MultiScaleResidualQuantizer1d(4, (1, 2, 4, 8), 32), (2, 8, 4), (2, 15), 15 * 5.0, 4, True
    ),
    "msrq1d-phi-dropout": Case(
        lambda: MultiScaleResidualQuantizer1d(3, (1, 3, 7), 16, phi_ratio=0.5, quantizer_dropout=0.5),
        (2, 7, 3),
        (2, 11),
        11 * 4.0,
        3,
        True,
    ),
    "kl": Case(lambda: KLBottleneck(6), (2, 5, 6), None, None),
    "kl-small": Case(lambda: KLBottleneck(6, latent_dim=3, kl_weight=0.1), (4, 6), None, None),
    "ptq": Case(lambda: _ptq(6, 8), (2, 5, 6), (2, 5, 6), 6 * 3.0, 0, True),
    "dual": Case(
        lambda: DualCodebookVQ(10, 32, split=(4, 6), weights=(1.0, 2.0)), (2, 5, 10), (2, 5), 5.0, 0, True
    ),
}
cases = pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))


@cases
def test_shapes_and_stats(case: Case):
    q = case.make().train()
    out = q(torch.randn(case.shape))
    assert out.latents.shape == case.shape and out.latents.dtype == torch.float32
    assert out.loss.shape == () and torch.isfinite(out.loss)
    if case.ids_shape is None:
        assert out.ids is None and q.codebook_size is None
        assert all(torch.isnan(out.stats[k]) for k in STAT_KEYS)
    else:
        assert out.ids.shape == case.ids_shape and out.ids.dtype == torch.long
        assert int(out.ids.max()) < q.codebook_size and int(out.ids.min()) >= -1
        assert all(torch.isfinite(out.stats[k]) for k in STAT_KEYS)
    for i in range(case.levels):
        assert all(f"{k}/{i}" in out.stats for k in STAT_KEYS)


@cases
def test_ids_round_trip_in_eval(case: Case):
    q = case.make().eval()
    out = q(torch.randn(case.shape))
    if case.ids_shape is None:
        with pytest.raises(ConfigError, match="no ids"):
            q.ids_to_latents(torch.zeros(3, dtype=torch.long))
        return
    assert torch.allclose(q.ids_to_latents(out.ids), out.latents, atol=1e-5)


@cases
def test_gradient_reaches_input(case: Case):
    q = case.make().train()
    z = torch.randn(case.shape, requires_grad=True)
    out = q(z)
    out.latents.sum().backward()  # through the latents themselves, not only through the loss
    assert z.grad is not None and torch.isfinite(z.grad).all() and z.grad.abs().sum() > 0
    if case.identity_grad:  # plain straight-through: d latents / d z is the identity
        assert torch.allclose(z.grad, torch.ones_like(z), atol=1e-5)


@cases
def test_bits_per_token(case: Case):
    q = case.make()
    assert q.bits_per_token == case.bits
    if case.ids_shape is not None:  # bits = ids per token (the ids dims beyond the token's position) * log2 K
        token_dims = len(case.shape) - 1 if not isinstance(q, MultiScaleResidualQuantizer) else 1
        per_token = math.prod(case.ids_shape[token_dims:])
        assert q.bits_per_token == pytest.approx(per_token * math.log2(q.codebook_size))


@cases
def test_deterministic_in_eval(case: Case):
    q = case.make().eval()
    z = torch.randn(case.shape)
    a, b = q(z), q(z)
    assert torch.equal(a.latents, b.latents) and torch.equal(a.loss, b.loss)
    if a.ids is not None:
        assert torch.equal(a.ids, b.ids)


@cases
def test_bf16_autocast_finite(case: Case):
    q = case.make().train()
    z = torch.randn(case.shape, requires_grad=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = q(z.to(torch.bfloat16))
    assert torch.isfinite(out.loss) and torch.isfinite(out.latents).all()
    assert out.latents.dtype == torch.float32
    (out.latents.sum() + out.loss).backward()
    assert torch.isfinite(z.grad).all()


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("rvq", {"num_quantizers": 2, "codebook_size": 8}),
        ("msrq", {"scales": (1, 2), "codebook_size": 8}),
        ("kl", {"latent_dim": 2}),
        ("ptq", {"bins": 4}),
        ("dual", {"codebook_size": 8, "split": (2, 2)}),
    ],
)
def test_registered(name: str, options: dict):
    assert isinstance(build_quantizer(name, 4, **options), Quantizer)


# --- Residual VQ ---------------------------------------------------------------------------------------


def _prefix_errors(rvq: ResidualVQ, z: torch.Tensor) -> list[float]:
    ids = rvq.eval()(z).ids
    with torch.no_grad():
        return [float(z.pow(2).mean())] + [
            float((rvq.ids_to_latents(ids[..., :k]) - z).pow(2).mean())
            for k in range(1, rvq.num_quantizers + 1)
        ]


def test_rvq_error_never_grows_with_a_zero_code():
    # With the zero vector in every codebook, each stage can always leave the residual unchanged, so the
    # nearest-code choice can never increase the error: the errors over prefixes must be non-increasing.
    rvq = ResidualVQ(6, 5, 32)
    with torch.no_grad():
        for stage in rvq.stages:
            stage.codebook.weight[0] = 0
            stage.codebook.weight.mul_(0.5)
    errs = _prefix_errors(rvq, torch.randn(512, 6))
    assert all(b <= a + 1e-6 for a, b in pairwise(errs)), errs
    assert errs[-1] < 0.8 * errs[0], errs


def test_rvq_error_decreases_with_stages_after_a_short_fit():
    rvq = ResidualVQ(4, 4, 32, quantizer_dropout=0.3).train()
    opt = torch.optim.Adam(rvq.parameters(), 3e-2)
    for _ in range(60):
        loss = rvq(torch.randn(512, 4)).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    errs = _prefix_errors(rvq, torch.randn(2048, 4))
    assert all(b < a for a, b in pairwise(errs)), errs


def test_rvq_prefix_decode_and_dropout():
    rvq = ResidualVQ(8, 4, 16).eval()
    z = torch.randn(3, 7, 8)
    out = rvq(z)
    with torch.no_grad():
        parts = [rvq.stages[i].ids_to_latents(out.ids[..., i]) for i in range(4)]
        for k in range(1, 5):
            assert torch.allclose(rvq.ids_to_latents(out.ids[..., :k]), sum(parts[:k]), atol=1e-6)
    with pytest.raises(ValueError):
        rvq.ids_to_latents(torch.zeros(3, 5, dtype=torch.long))
    # Always-on dropout: trailing stages are -1, contribute nothing, and the ids still decode to the latents.
    rvq = ResidualVQ(8, 4, 16, quantizer_dropout=1.0).train()
    used = set()
    for _ in range(30):
        out = rvq(z)
        k = int(out.stats["num_stages_used"])
        used.add(k)
        assert (out.ids[..., :k] >= 0).all() and (out.ids[..., k:] == -1).all()
        assert torch.isnan(out.stats[f"usage/{k - 1}"]).item() is False
        assert torch.allclose(rvq.ids_to_latents(out.ids), out.latents, atol=1e-5)
    assert len(used) > 1


# --- Multi-scale residual quantization ------------------------------------------------------------------


def _smooth_grid(batch: int, size: int, dim: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = torch.linspace(0, 1, size)
    out = torch.zeros(batch, size, size, dim)
    for f in range(1, 4):
        a, b = torch.randn(2, batch, 1, 1, dim, generator=g) / f
        out += a * torch.sin(math.pi * f * x)[:, None, None] * torch.cos(math.pi * f * x)[None, :, None]
        out += b * torch.cos(math.pi * f * x)[:, None, None]
    return out


@pytest.mark.parametrize("upsample", ["bicubic", "bilinear"])
@pytest.mark.parametrize("seed", [0, 1])
def test_msrq_error_decreases_monotonically_over_scales(upsample: str, seed: int):
    # Why monotone: the codebook is a dense 64x64 grid over [-3, 3]^2 (step ~0.1, including ~0), so each
    # lookup is nearly exact and every scale adds (up to a small rounding) up(down(residual)), the low-pass
    # part of what is left. For a smooth input that low-pass part explains most of the residual, so its
    # energy drops at every scale; the last scale is at full resolution where nearest-code rounding leaves
    # at most the grid's rounding error. Margins are large (each step removes >50% of the error).
    m = MultiScaleResidualQuantizer(2, (1, 2, 4, 8, 16), 64 * 64, upsample=upsample).eval()
    g = torch.linspace(-3, 3, 64)
    with torch.no_grad():
        m.vq.codebook.weight.copy_(torch.stack(torch.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2))
    _assert_error_falls_with_every_scale(m, _smooth_grid(3, 16, 2, seed))


def _assert_error_falls_with_every_scale(m: MultiScaleResidualQuantizer, z: torch.Tensor) -> None:
    """The error of decoding the first k scales (k = 0: nothing) falls with every k, to < 1 % of ``z``'s energy."""
    ids = m(z).ids
    assert ids.shape == (len(z), m.num_tokens)
    with torch.no_grad():
        errs = [float(z.pow(2).mean())] + [
            float((m.ids_to_latents(ids, num_scales=k) - z).pow(2).mean())
            for k in range(1, len(m.scales) + 1)
        ]
    assert all(b < a for a, b in pairwise(errs)), errs
    assert errs[-1] < 0.01 * errs[0], errs


def test_msrq_split_ids_and_prefix_decode():
    m = MultiScaleResidualQuantizer(4, (1, 2, 3, 5), 16, phi_ratio=0.5).eval()
    z = torch.randn(2, 5, 5, 4)
    ids = m(z).ids
    assert ids.shape == (2, 1 + 4 + 9 + 25) and m.num_tokens == 39
    maps = m.split_ids(ids)
    assert [tuple(t.shape) for t in maps] == [(2, 1, 1), (2, 2, 2), (2, 3, 3), (2, 5, 5)]
    assert torch.equal(torch.cat([t.reshape(2, -1) for t in maps], 1), ids)
    with torch.no_grad():
        for k, n in enumerate([1, 5, 14], start=1):
            assert torch.allclose(
                m.ids_to_latents(ids[:, :n]), m.ids_to_latents(ids, num_scales=k), atol=1e-6
            )
    with pytest.raises(ValueError):
        m.split_ids(ids[:, :3])
    with pytest.raises(ValueError):
        m(torch.randn(2, 4, 4, 4))  # H must equal the last scale


def test_msrq_dropout_over_scales():
    m = MultiScaleResidualQuantizer(3, (1, 2, 4), 16, quantizer_dropout=1.0).train()
    z = torch.randn(2, 4, 4, 3)
    used = set()
    for _ in range(30):
        out = m(z)
        k = int(out.stats["num_scales_used"])
        used.add(k)
        n = sum(s * s for s in (1, 2, 4)[:k])
        assert (out.ids[:, :n] >= 0).all() and (out.ids[:, n:] == -1).all()
    assert len(used) > 1


def test_msrq_shares_one_codebook():
    m = MultiScaleResidualQuantizer(4, (1, 2, 4), 16)
    assert sum(isinstance(x, torch.nn.Embedding) for x in m.modules()) == 1


# --- multi-scale residual quantization of a 1-D sequence (msrq1d, VAT) -------------------------------------


def _dense_2d_codebook(m: MultiScaleResidualQuantizer) -> None:
    """A 65x65 grid over [-3.2, 3.2]^2 (step 0.1, with an exact 0) as the codebook of a D = 2 quantizer: every
    lookup is nearly exact, and a residual below half a step is coded as 0 rather than made worse."""
    g = torch.linspace(-3.2, 3.2, 65)
    with torch.no_grad():
        m.vq.codebook.weight.copy_(torch.stack(torch.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2))


@pytest.mark.parametrize("seed", [0, 1])
def test_msrq1d_error_decreases_monotonically_over_scales(seed: int):
    # The 1-D form of test_msrq_error_decreases_monotonically_over_scales: with a nearly exact codebook every
    # scale adds up(down(residual)), the low-pass part of what is left, which for a smooth sequence explains most
    # of it; the last scale is at full length, where only the grid's rounding error is left.
    m = MultiScaleResidualQuantizer1d(2, (1, 2, 4, 8, 16, 32), 65 * 65).eval()
    _dense_2d_codebook(m)
    g = torch.Generator().manual_seed(seed)
    t = torch.linspace(0, 1, 32)
    z = torch.zeros(3, 32, 2)
    for f in range(4):  # a few low frequencies, amplitude falling with frequency
        a, b = torch.randn(2, 3, 1, 2, generator=g) / (1 + f)
        z += a * torch.sin(math.pi * f * t)[None, :, None] + b * torch.cos(math.pi * f * t)[None, :, None]
    assert m.num_tokens == 63
    _assert_error_falls_with_every_scale(m, z)


def test_msrq1d_split_ids_prefix_decode_and_refinement():
    m = MultiScaleResidualQuantizer1d(4, (1, 2, 3, 5), 16, phi_ratio=0.5).eval()
    assert m.upsample == "linear" and m.num_tokens == 11 and m.bits_per_token == 11 * 4.0
    assert all(isinstance(p.conv, torch.nn.Conv1d) and p.conv.kernel_size == (3,) for p in m.phi)
    z = torch.randn(2, 5, 4)
    out = m(z)
    assert out.latents.shape == z.shape and out.ids.shape == (2, 1 + 2 + 3 + 5)
    maps = m.split_ids(out.ids)
    assert [tuple(t.shape) for t in maps] == [(2, 1), (2, 2), (2, 3), (2, 5)]
    assert torch.equal(torch.cat(maps, 1), out.ids)
    with torch.no_grad():
        torch.testing.assert_close(m.ids_to_latents(out.ids), out.latents)
        for k, n in enumerate([1, 3, 6], start=1):
            torch.testing.assert_close(
                m.ids_to_latents(out.ids[:, :n]), m.ids_to_latents(out.ids, num_scales=k)
            )
    with pytest.raises(ValueError, match="whole prefix of scales"):
        m.split_ids(out.ids[:, :2])
    with pytest.raises(ValueError, match=r"expected z\[B, L, 4\] with L == 5"):
        m(torch.randn(2, 4, 4))  # L must equal the last scale
    with pytest.raises(ValueError, match=r"L == 5"):
        m(torch.randn(2, 5, 5, 4))  # a 2-D grid is not a sequence


def test_msrq1d_dropout_over_scales():
    m = MultiScaleResidualQuantizer1d(3, (1, 2, 4, 8), 16, quantizer_dropout=1.0).train()
    z = torch.randn(2, 8, 3)
    used = set()
    for _ in range(30):
        out = m(z)
        k = int(out.stats["num_scales_used"])
        used.add(k)
        n = sum((1, 2, 4, 8)[:k])
        assert (out.ids[:, :n] >= 0).all() and (out.ids[:, n:] == -1).all() and out.ids.shape == (2, 15)
        assert torch.isfinite(out.loss) and math.isnan(float(out.stats["usage/3"])) == (k < 4)
        with torch.no_grad():  # dropped scales decode to nothing: the kept prefix alone
            torch.testing.assert_close(m.ids_to_latents(out.ids), m.ids_to_latents(out.ids[:, :n]))
    assert len(used) > 1


@pytest.mark.parametrize(
    ("scales", "options", "message"),
    [
        ((4, 2, 1), {}, "strictly increasing positive sequence lengths"),
        ((1, 1, 4), {}, "strictly increasing positive sequence lengths"),
        ((0, 4), {}, "strictly increasing positive sequence lengths"),
        ((), {}, "strictly increasing positive sequence lengths"),
        ((1, 4), {"upsample": "bicubic"}, "upsample must be 'linear'"),
    ],
)
def test_msrq1d_refuses_bad_scales_and_modes(scales, options, message):
    with pytest.raises(ValueError, match=message):
        MultiScaleResidualQuantizer1d(4, scales, 16, **options)
    with pytest.raises(ValueError, match=message):  # by name, as a tokenizer config builds it
        build_quantizer("msrq1d", 4, scales=scales, codebook_size=16, **options)


# --- Gaussian (KL) bottleneck ---------------------------------------------------------------------------


def test_kl_eval_uses_the_mean_and_train_samples():
    q = KLBottleneck(6, latent_dim=4)
    z = torch.randn(5, 6)
    with torch.no_grad():
        mu, _ = q.moments(z)
        assert torch.allclose(q.eval()(z).latents, q.from_latent(mu))
        q.train()
        assert not torch.allclose(q(z).latents, q(z).latents)
    assert q.latent_dim == 4 and q.bits_per_token is None


def test_kl_storage_grid_turns_the_means_into_ids():
    from tokzoo.quant.bottleneck import Bottleneck
    from tokzoo.quant.ptq import NotFittedError

    torch.manual_seed(0)
    q = KLBottleneck(6, latent_dim=3, store_bins=8)
    b = Bottleneck(q)
    z = torch.randn(2, 5, 6)
    with torch.no_grad():
        q.train()
        assert q(z).ids is None and torch.isfinite(q(z).loss)  # trains as before, unfitted
        q.eval()
        with pytest.raises(NotFittedError, match=r"storage grid .*not fitted"):
            q(z)
        b.fit(torch.randn(400, 6))
        tokens = b.encode(z, (5,))
        assert (tokens.layout, tokens.shape, tokens.vocab_size) == ("seq1d+depth", (5, 3), 8)
        assert tokens.nbits() == 2 * 5 * 3 * 3  # 3 ids of 3 bits per position
        mu = q.latent_values(z)
        centres = q.store.ids_to_latents(q.store(mu.reshape(-1, 3)).ids).reshape(mu.shape)
        assert torch.allclose(b.decode(tokens), q.from_latent(centres), atol=1e-6)
        assert torch.allclose(q(z).latents, b.decode(tokens), atol=1e-6)  # eval forward = decode(encode)
    # a float-stored bottleneck loads the same weights and ignores the grid
    plain = KLBottleneck(6, latent_dim=3)
    plain.load_state_dict(q.state_dict())
    assert plain.store is None and torch.equal(plain.to_moments.weight, q.to_moments.weight)
    with pytest.raises(ConfigError, match="nothing to fit"):
        plain.fit(z)
    with pytest.raises(ConfigError, match="store_bins"):
        KLBottleneck(6, store_bins=1)


def test_kl_is_zero_for_standard_normal_and_grows_with_mu():
    assert gaussian_kl(torch.zeros(10), torch.zeros(10)).abs().max() == 0
    q = KLBottleneck(4, kl_weight=1.0).eval()  # identity-initialised: mu = z, logvar = 0
    kls = [float(q(torch.full((8, 4), c)).stats["kl"]) for c in (0.0, 0.5, 1.0, 2.0, -3.0)]
    assert kls[0] == pytest.approx(0.0, abs=1e-6)
    assert all(b > a for a, b in pairwise(kls)), kls
    assert kls[2] == pytest.approx(0.5, rel=1e-4)  # 0.5 * mu^2
    out = q(torch.full((8, 4), 1.0))
    assert float(out.loss.detach()) == pytest.approx(float(out.stats["kl"]))
    assert float(out.stats["mean_abs_mu"]) == pytest.approx(1.0) and float(
        out.stats["mean_sigma"]
    ) == pytest.approx(1.0)
    # the KL pulls a non-standard posterior back toward N(0, 1)
    lv = torch.tensor([-2.0, 0.0, 2.0])
    assert gaussian_kl(torch.zeros(3), lv)[1] < gaussian_kl(torch.zeros(3), lv)[[0, 2]].min()


def test_kl_adopts_fsq_projections_and_refuses_misfits():
    """A KL bottleneck warm-started from FSQ (same latent dims) passes the FSQ pre-bound latents to its output
    map in eval, with a small fixed sigma; a source whose projections do not fit changes nothing."""
    torch.manual_seed(0)
    fsq = build_quantizer("fsq", 16, levels=[8, 5, 5, 5])
    kl = KLBottleneck(16, latent_dim=4)
    assert kl.adopt(fsq) == ["to_moments.weight", "to_moments.bias", "from_latent.weight", "from_latent.bias"]
    z = torch.randn(7, 16)
    with torch.no_grad():
        mu, logvar = kl.moments(z)
        torch.testing.assert_close(mu, fsq.proj_in(z))
        assert torch.all(logvar == -5.0)
        torch.testing.assert_close(kl.eval()(z).latents, fsq.proj_out(fsq.proj_in(z)))
    before = {k: v.clone() for k, v in kl.state_dict().items()}
    assert KLBottleneck(16, latent_dim=3).adopt(fsq) == []
    assert kl.adopt(build_quantizer("fsq", 16, levels=[8, 5, 5])) == []
    assert all(torch.equal(v, kl.state_dict()[k]) for k, v in before.items())


# --- Post-training dimension-wise quantization -------------------------------------------------------


@pytest.mark.parametrize("dist", ["gaussian", "lognormal"])
def test_ptq_mse_shrinks_strictly_with_bins(dist: str):
    g = torch.Generator().manual_seed(0)
    fit, held = torch.randn(2, 4000, 5, generator=g)
    if dist == "lognormal":  # skewed, heavy right tail
        fit, held = fit.exp(), held.exp()
    fit_mse, held_mse = [], []
    for bins in (2, 4, 8, 16, 64):
        q = PostTrainingQuantizer(5, bins=bins).fit(fit).eval()
        out = q(held)
        assert out.ids.shape == held.shape and int(out.ids.min()) >= 0 and int(out.ids.max()) < bins
        assert q.bits_per_token == 5 * math.log2(bins)
        held_mse.append(float((out.latents - held).pow(2).mean()))
        fit_mse.append(float((q(fit).latents - fit).pow(2).mean()))
    assert all(b < a for a, b in pairwise(fit_mse)), fit_mse
    assert all(b < a for a, b in pairwise(held_mse)), held_mse


def test_ptq_equal_probability_bins():
    x = torch.randn(8000, 3)
    q = PostTrainingQuantizer(3, bins=8).fit(x)
    counts = torch.stack([torch.bincount(q(x).ids[:, d], minlength=8) for d in range(3)]).float()
    assert torch.allclose(counts, torch.full_like(counts, 1000.0), atol=2)
    assert (q.centres.diff(dim=1) > 0).all()  # centres ordered like the bins
    ids = q(x).ids
    for d in range(3):  # each centre is the conditional mean of its bin
        means = torch.stack([x[ids[:, d] == b, d].mean() for b in range(8)])
        assert torch.allclose(q.centres[d], means, atol=1e-5)


def test_ptq_errors_before_fit_and_survives_state_dict():
    q = PostTrainingQuantizer(4, bins=4)
    with pytest.raises(NotFittedError, match="fit"):
        q(torch.randn(3, 4))
    with pytest.raises(NotFittedError):
        q.ids_to_latents(torch.zeros(3, 4, dtype=torch.long))
    q.fit(torch.randn(100, 4))
    q2 = PostTrainingQuantizer(4, bins=4)
    q2.load_state_dict(q.state_dict())
    z = torch.randn(6, 4)
    assert torch.equal(q2(z).latents, q(z).latents)


# --- Dual codebook --------------------------------------------------------------------------------------


@pytest.mark.parametrize("weights", [(1.0, 1.0), (1.0, 3.0), (0.2, 1.0), (1.0, 0.0)])
def test_dual_index_minimises_weighted_distance(weights: tuple[float, float]):
    q = DualCodebookVQ(7, 24, split=(3, 4), weights=weights).eval()
    z = torch.randn(50, 7)
    out = q(z)
    sem, pix = q.sem_codebook.weight.detach(), q.pix_codebook.weight.detach()
    best = []
    for row in z:  # brute force over every pair of codes
        d = [
            weights[0] * float(((row[:3] - sem[k]) ** 2).sum())
            + weights[1] * float(((row[3:] - pix[k]) ** 2).sum())
            for k in range(24)
        ]
        best.append(min(d))
        assert d[int(out.ids[len(best) - 1])] <= min(d) + 1e-4
    assert torch.allclose(out.latents, torch.cat([sem[out.ids], pix[out.ids]], -1))
    if weights[1] == 0:  # the pixel branch has no say: pure semantic nearest neighbour
        assert torch.equal(out.ids, torch.cdist(z[:, :3], sem).argmin(1))


def test_dual_losses_train_both_codebooks_and_bad_split():
    q = DualCodebookVQ(6, 8, split=(2, 4)).train()
    q(torch.randn(16, 6)).loss.backward()
    assert q.sem_codebook.weight.grad.abs().sum() > 0 and q.pix_codebook.weight.grad.abs().sum() > 0
    with pytest.raises(ConfigError):
        DualCodebookVQ(6, 8, split=(2, 3))
