"""Codecs at equal quality: the smallest file that reaches a PSNR, honest floors, downscaled coding."""

import numpy as np
import pytest

from test_codecs import smooth_image
from tokzoo.bench.codecs import BudgetSearch
from tokzoo.bench.equal_quality import codec_at_psnr
from tokzoo.core.errors import ConfigError
from tokzoo.data.decode import image_to_tensor
from tokzoo.metrics.fidelity import psnr


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(psnr(image_to_tensor(a)[None], image_to_tensor(b)[None])[0])


@pytest.mark.parametrize("codec", ["jpeg", "webp"])
@pytest.mark.parametrize("target", [24.0, 30.0])
def test_smallest_quality_reaching_the_target(codec, target):
    img = smooth_image(3, 48, 64)
    m = codec_at_psnr(img, codec, target)
    search = BudgetSearch(img, codec)
    data = search.file(m.quality)
    assert m.reached and m.psnr >= target and m.nbytes == len(data)
    assert m.psnr == pytest.approx(_psnr(search.codec.decode(data), img), abs=1e-4)
    if not m.at_floor:  # the next lower quality falls short
        below = search.codec.decode(search.file(m.quality - 1))
        assert _psnr(below, img) < target


def test_floor_and_unreachable_targets_are_flagged():
    img = smooth_image(5, 40, 40)
    low = codec_at_psnr(img, "jpeg", 5.0)
    assert low.reached and low.at_floor and low.quality == 1
    high = codec_at_psnr(img, "jpeg", 99.0)
    assert not high.reached and not high.at_floor and high.quality == 100 and high.psnr < 99.0


def test_downscaled_coding_goes_below_the_native_floor():
    img = smooth_image(7, 96, 96)
    native = codec_at_psnr(img, "jpeg", 10.0)
    scaled = codec_at_psnr(img, "jpeg", 10.0, scales=[1.0, 0.5])
    assert native.at_floor and scaled.scale == 0.5 and scaled.nbytes < native.nbytes
    assert scaled.reached and scaled.psnr >= 10.0
    assert scaled.bpp(96 * 96) == pytest.approx(8 * scaled.nbytes / (96 * 96))


@pytest.mark.parametrize("scales", [[], [0.0], [1.5]])
def test_bad_scales_are_refused(scales):
    with pytest.raises(ConfigError, match="scales"):
        codec_at_psnr(smooth_image(0, 16, 16), "jpeg", 20.0, scales=scales)


def test_psnr_is_measured_at_full_size():
    img = smooth_image(1, 33, 47)  # odd sizes: the upsampled image must come back at 47x33
    m = codec_at_psnr(img, "webp", 15.0, scales=[0.5])
    assert m.scale == 0.5 and m.psnr >= 15.0
