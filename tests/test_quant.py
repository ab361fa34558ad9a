"""The VQ bottleneck: lookup consistency, statistics, and dead-code restarts against collapse."""

import math

import pytest
import torch

from tokzoo.quant import VectorQuantizer, codebook_stats


def test_codebook_stats_known_values():
    s = codebook_stats(torch.tensor([0, 1, 2, 3]), 8)
    assert float(s["usage"]) == 0.5
    assert float(s["entropy_bits"]) == pytest.approx(2.0)
    assert float(s["perplexity"]) == pytest.approx(4.0)
    s = codebook_stats(torch.zeros(10, dtype=torch.long), 4)
    assert float(s["usage"]) == 0.25 and float(s["perplexity"]) == pytest.approx(1.0)


@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize("code_dim", [None, 4])
def test_ids_to_latents_matches_forward(normalize, code_dim):
    vq = VectorQuantizer(12, 64, code_dim=code_dim, normalize=normalize).eval()
    z = torch.randn(2, 5, 7, 12)
    out = vq(z)
    assert out.latents.shape == z.shape and out.ids.shape == (2, 5, 7)
    assert torch.allclose(vq.ids_to_latents(out.ids), out.latents, atol=1e-6)
    assert vq.bits_per_token == math.log2(64)


def test_straight_through_gradient_reaches_the_input():
    vq = VectorQuantizer(8, 16)
    z = torch.randn(4, 8, requires_grad=True)
    out = vq(z)
    (out.latents.sum() + out.loss).backward()
    assert z.grad is not None and z.grad.abs().sum() > 0


def _train_usage(restart_decay: float) -> float:
    torch.manual_seed(0)
    vq = VectorQuantizer(16, 256, code_dim=8, restart_decay=restart_decay).train()
    opt = torch.optim.Adam(vq.parameters(), 1e-2)
    centers = torch.randn(512, 16) * 3
    for _ in range(120):
        z = centers[torch.randint(0, 512, (1024,))] + 0.1 * torch.randn(1024, 16)
        loss = vq(z).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    z = centers[torch.randint(0, 512, (4096,))]
    return float(vq.eval()(z).stats["usage"])


def test_dead_code_restarts_prevent_collapse():
    without, with_restarts = _train_usage(0.0), _train_usage(0.9)
    assert with_restarts > 0.95 > 0.7 > without, (without, with_restarts)


def test_restarts_only_in_training_mode():
    vq = VectorQuantizer(4, 32).eval()
    vq.usage.zero_()  # every code looks dead
    before = vq.codebook.weight.clone()
    vq(torch.randn(64, 4))
    assert torch.equal(before, vq.codebook.weight)


def test_lookup_stays_float32_under_bf16_autocast():
    torch.manual_seed(1)
    vq = VectorQuantizer(32, 4096, code_dim=32).eval()
    z = torch.randn(512, 32)
    ref = vq(z).ids
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = vq(z)
    assert torch.equal(out.ids, ref) and out.latents.dtype == torch.float32


def test_quantizers_by_name():
    from tokzoo.core.errors import ConfigError
    from tokzoo.quant import build_quantizer, list_quantizers

    assert "vq" in list_quantizers()
    vq = build_quantizer("vq", 8, codebook_size=16, code_dim=4)
    assert isinstance(vq, VectorQuantizer) and vq.codebook_size == 16
    with pytest.raises(ConfigError, match="unknown quantizer 'nope'"):
        build_quantizer("nope", 8)
    with pytest.raises(ConfigError, match="invalid option"):
        build_quantizer("vq", 8, codebook_size=16, bogus=1)
