"""Full-reference metrics and the protocol functions every evaluation path calls."""

import math

import pytest
import torch

from tokzoo.bench.protocol import (
    FIDELITY_KEYS,
    bits_per_pixel,
    fidelity_batch,
    fidelity_metrics,
    finalize,
    summarize,
    unavailable_reason,
)
from tokzoo.core.errors import DataError
from tokzoo.metrics import mean_ci, psnr, sam, uqi, vif


def photo_like(n=2, side=64, seed=0):
    """Smooth random images (low-pass noise) with values well inside (0, 1)."""
    g = torch.Generator().manual_seed(seed)
    small = torch.rand(n, 3, side // 8, side // 8, generator=g)
    x = torch.nn.functional.interpolate(small, size=(side, side), mode="bicubic", align_corners=False)
    return finalize(0.15 + 0.7 * x.clamp(0, 1))


def test_known_noise_level_gives_known_psnr():
    x = photo_like()
    # alternating ±8 levels: MSE = (8/255)^2 exactly, so PSNR = 20 log10(255/8)
    sign = (torch.arange(64)[None, :] + torch.arange(64)[:, None]) % 2 * 2 - 1
    y = x + sign * 8 / 255
    expected = 20 * math.log10(255 / 8)
    assert psnr(y, x) == pytest.approx(torch.full((2,), expected), abs=1e-3)


def test_identical_images_score_perfectly():
    x = photo_like()
    m = fidelity_batch(x, x)
    for row in m:
        assert row["psnr"] == 100.0
        assert row["ssim"] == pytest.approx(1.0, abs=1e-5)
        assert row["ms_ssim"] is None  # 64 px is below the MS-SSIM floor
        assert row["uqi"] == pytest.approx(1.0, abs=1e-3)
        assert row["vif"] == pytest.approx(1.0, abs=1e-4)
        assert row["sam"] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("metric", [uqi, vif])
def test_more_noise_scores_worse(metric):
    x = photo_like()
    g = torch.Generator().manual_seed(1)
    noise = torch.randn(x.shape, generator=g)
    scores = [metric((x + s * noise).clamp(0, 1), x) for s in (0.02, 0.08, 0.3)]
    assert (scores[0] > scores[1]).all() and (scores[1] > scores[2]).all()


def test_sam_measures_hue_not_brightness_and_skips_black_pixels():
    x = photo_like()
    assert (sam(x * 0.5, x) < 0.01).all()  # same direction, darker (only uint8 rounding moves it)
    swapped = x[:, [2, 0, 1]]
    assert (sam(swapped, x) > 0.05).all()
    y = x.clone()
    y[:, :, :4, :4] = 0  # black pixels have no angle: left out instead of turning the mean into NaN
    assert torch.isfinite(sam(y, x)).all()


def test_size_floors_give_none_with_a_reason():
    small = photo_like(1, 40)
    assert vif(small, small) is None
    row = fidelity_metrics(small[0], small[0])
    assert row["vif"] is None and row["ms_ssim"] is None and row["psnr"] == 100.0
    assert "41 px" in unavailable_reason("vif", 40, 40)
    assert "176 px" in unavailable_reason("ms_ssim", 175, 300)
    assert unavailable_reason("ms_ssim", 176, 176) is None and unavailable_reason("psnr", 8, 8) is None


def test_ms_ssim_available_at_176_px():
    x = photo_like(1, 176)
    row = fidelity_metrics(x, x)
    assert row["ms_ssim"] == pytest.approx(1.0, abs=1e-5)


def test_single_image_and_batch_paths_agree():
    x = photo_like(3)
    y = finalize(x + 0.05 * torch.randn(x.shape, generator=torch.Generator().manual_seed(2)))
    batch = fidelity_batch(y, x)
    for i in range(3):
        single = fidelity_metrics(y[i], x[i])
        assert single["ms_ssim"] is None and batch[i]["ms_ssim"] is None
        for key in set(FIDELITY_KEYS) - {"ms_ssim"}:
            assert single[key] == pytest.approx(batch[i][key], rel=1e-5, abs=1e-6)
    assert list(batch[0]) == list(FIDELITY_KEYS)


def test_bad_shapes_are_clear_errors():
    x = photo_like(2)
    with pytest.raises(DataError, match="one shape"):
        fidelity_batch(x, x[:, :, :32])
    with pytest.raises(DataError, match="one image"):
        fidelity_metrics(x, x)


def test_rate_and_summary():
    assert bits_per_pixel(384, 64, 64) == pytest.approx(384 / 4096)
    records = [{"a": 1.0, "b": None}, {"a": 3.0, "b": None}]
    out = summarize(records, ["a", "b"])
    assert out["a"] == mean_ci([1.0, 3.0]) and out["b"] is None


def test_fidelity_batch_subset_matches_full_and_refuses_unknown_keys():
    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    y = finalize(x + 0.05)
    full = fidelity_batch(y, x)
    part = fidelity_batch(y, x, ("psnr", "ms_ssim"))
    assert part == [{"psnr": f["psnr"], "ms_ssim": f["ms_ssim"]} for f in full]
    with pytest.raises(DataError, match="unknown fidelity metrics"):
        fidelity_batch(y, x, ("psnr", "lpips"))
