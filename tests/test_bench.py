"""Evaluation protocol pieces: metrics on known inputs, the equal-bits thumbnail, aggregation, reports."""

import json
import math

import pytest
import torch

import tokzoo
from tokzoo.bench import (
    evaluate,
    format_summary,
    prepare_images,
    save_grid,
    thumbnail_reconstruct,
    thumbnail_side,
)
from tokzoo.bench.report import write_metrics
from tokzoo.data import bundled_images
from tokzoo.metrics import mean_ci, psnr, quantize_uint8, ssim


def test_psnr_known_value_and_cap():
    x = torch.full((1, 3, 8, 8), 0.5)
    y = x + 0.1
    expected = 10 * math.log10(1 / (round(0.6 * 255) / 255 - round(0.5 * 255) / 255) ** 2)
    assert float(psnr(y, x)[0]) == pytest.approx(expected, rel=1e-5)
    assert float(psnr(x, x)[0]) == 100.0


def test_metrics_round_to_uint8_first():
    x = quantize_uint8(torch.rand(2, 3, 16, 16))
    tiny = x + 0.4 / 255  # invisible once saved as 8-bit
    assert torch.equal(psnr(tiny, x), torch.full((2,), 100.0))
    assert float(psnr(x + 0.6 / 255, x).max()) < 60  # one level off is visible to the metric
    assert torch.allclose(ssim(x, x), torch.ones(2))


@pytest.mark.parametrize(("bits", "side"), [(384, 4), (1536, 8), (2560, 10), (23, 0), (24, 1)])
def test_thumbnail_side(bits, side):
    assert thumbnail_side(bits) == side


def test_thumbnail_of_constant_image_is_exact():
    x = torch.full((1, 3, 32, 32), 0.25)
    assert torch.allclose(thumbnail_reconstruct(x, 4), quantize_uint8(x), atol=1e-6)
    with pytest.raises(ValueError):
        thumbnail_reconstruct(x, 0)


def test_bigger_thumbnails_are_better_on_real_photos():
    _, imgs = prepare_images(bundled_images("test"), 128)
    scores = [float(psnr(thumbnail_reconstruct(imgs, s), imgs).mean()) for s in (4, 8, 16)]
    assert scores[0] < scores[1] < scores[2]
    assert 13 < scores[0] < 22  # DESIGN.md: about 15 dB at 4x4 on real photos at 128 px


def test_mean_ci():
    out = mean_ci([1.0, 2.0, 3.0, 4.0])
    assert out["mean"] == 2.5 and out["n"] == 4
    assert 1.0 <= out["ci95_low"] < 2.5 < out["ci95_high"] <= 4.0
    assert mean_ci([7.0]) == {"mean": 7.0, "ci95_low": 7.0, "ci95_high": 7.0, "n": 1}
    with pytest.raises(ValueError):
        mean_ci([])


def test_evaluate_and_reports(tmp_path):
    model = tokzoo.create("vq-f8-s", ch=8, codebook_size=64)
    names, imgs = prepare_images(bundled_images("test"), 64)
    result = evaluate(model, names, imgs, batch_size=2)
    assert [r["name"] for r in result.records] == ["chelsea", "coffee", "rocket"]
    r = result.records[0]
    assert r["tokens"] == 64 and r["bits"] == 64 * 6 and r["bpp"] == pytest.approx(384 / 4096)
    assert r["thumb_side"] == 4 and r["thumb_bits"] == 384
    assert result.reconstructions.shape == imgs.shape
    assert 0 < result.summary["token_stats"]["usage"] <= 1
    grid = save_grid(result, tmp_path / "grid.png")
    assert grid.stat().st_size > 0
    write_metrics(result, tmp_path / "m.json", {"model": "x"})
    data = json.loads((tmp_path / "m.json").read_text())
    assert data["model"] == "x" and len(data["images"]) == 3
    text = format_summary(result, "title")
    assert "thumbnail PSNR" in text and "bits per pixel" in text and "vs thumbnail" in text


def test_ms_ssim_known_values_and_size_floor():
    from tokzoo.metrics import ms_ssim, ms_ssim_min_side

    g = torch.Generator().manual_seed(0)
    x = torch.rand(2, 3, ms_ssim_min_side(), ms_ssim_min_side(), generator=g)
    assert torch.allclose(ms_ssim(x, x), torch.ones(2))
    noisy = (x + 0.2 * torch.randn(x.shape, generator=g)).clamp(0, 1)
    assert (ms_ssim(noisy, x) < 0.95).all()
    assert ms_ssim(x[..., :-1, :], x[..., :-1, :]) is None  # too small: no number rather than an error
