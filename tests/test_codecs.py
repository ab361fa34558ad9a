"""Classical codecs at a byte budget: never over budget, honest floors, clear errors."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokzoo.bench import codecs as codecs_mod
from tokzoo.bench.codecs import (
    CODECS,
    BelowCodecFloor,
    BudgetSearch,
    available_codecs,
    encode_to_budget,
    encode_to_budgets,
    get_codec,
)
from tokzoo.core.errors import ConfigError, DataError

ALL = list(CODECS)


def smooth_image(seed: int, h: int, w: int) -> np.ndarray:
    """A photo-like test image: smooth gradients plus a little noise (compresses like a photo, not noise)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    base = np.stack([np.sin(6 * xx + rng.uniform(0, 6)), np.cos(5 * yy + xx), xx * yy], axis=-1)
    img = 127.5 * (base + 1) + rng.normal(0, 8, size=(h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def test_all_codecs_available_here():
    assert available_codecs() == ALL


@pytest.mark.parametrize("codec", ALL)
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 2**16),
    h=st.integers(1, 40),
    w=st.integers(1, 40),
    budget=st.integers(1, 4000),
)
def test_never_exceeds_budget(codec, seed, h, w, budget):
    img = smooth_image(seed, h, w)
    try:
        out = encode_to_budget(img, codec, budget)
    except BelowCodecFloor as e:
        assert e.floor_bytes > budget
        assert e.codec == codec and str(budget) in str(e)
        return
    assert out.nbytes <= budget
    assert out.nbits == 8 * out.nbytes
    assert out.image.shape == img.shape and out.image.dtype == np.uint8
    assert len(get_codec(codec).encode(img, out.quality)) == out.nbytes  # the quality reproduces the file


@pytest.mark.parametrize("codec", ALL)
def test_search_finds_the_largest_fitting_quality(codec):
    img = smooth_image(1, 48, 48)
    search = BudgetSearch(img, codec)
    qs = get_codec(codec).qualities
    sizes = [len(search.file(q)) for q in qs]
    budget = sizes[len(qs) // 2]
    out = search.fit(budget)
    assert out.nbytes <= budget
    # Every quality above the chosen one is over budget at the next step up (binary search boundary).
    assert sizes[qs.index(out.quality) + 1] > budget or out.quality == qs[-1]
    # Generous budget: the top quality; budget just under the floor: a clear error, not a bigger file.
    assert search.fit(10**7).quality == qs[-1]
    with pytest.raises(BelowCodecFloor) as info:
        search.fit(search.floor().nbytes - 1)
    assert info.value.floor_bytes == search.floor().nbytes
    assert search.fit(search.floor().nbytes).nbytes <= search.floor().nbytes


@pytest.mark.parametrize("codec", ALL)
def test_size_and_fidelity_grow_with_quality(codec):
    img = smooth_image(2, 64, 64)
    search = BudgetSearch(img, codec)
    qs = get_codec(codec).qualities
    coarse = [qs[0], qs[len(qs) // 4], qs[len(qs) // 2], qs[3 * len(qs) // 4], qs[-1]]
    sizes = [len(search.file(q)) for q in coarse]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]
    err = [np.abs(search.fit(s).image.astype(int) - img).mean() for s in (sizes[0], sizes[-1])]
    assert err[1] < err[0]


def test_encode_to_budgets_mixes_results_and_floors():
    img = smooth_image(3, 32, 32)
    out = encode_to_budgets(img, "webp", [10, 100_000])
    assert isinstance(out[0], BelowCodecFloor) and out[0].budget == 10
    assert out[1].nbytes <= 100_000 and out[1].quality == 100


def test_unknown_codec_and_bad_inputs():
    img = smooth_image(0, 8, 8)
    with pytest.raises(ConfigError, match=r"unknown codec 'bpg'.*jpeg, webp, avif, jxl"):
        encode_to_budget(img, "bpg", 1000)
    with pytest.raises(ConfigError, match="positive integer"):
        encode_to_budget(img, "jpeg", 0)
    with pytest.raises(DataError, match="HxWx3 uint8"):
        encode_to_budget(img.astype(np.float32), "jpeg", 1000)
    with pytest.raises(DataError, match="non-empty"):
        encode_to_budget(img[:0], "jpeg", 1000)


def test_missing_codec_names_the_pip_package(monkeypatch):
    jxl = CODECS["jxl"]
    monkeypatch.setitem(codecs_mod.CODECS, "jxl", codecs_mod.Codec(
        jxl.name, jxl.label, jxl.qualities, jxl.requirement, jxl.encode, jxl.decode, lambda: False
    ))  # fmt: skip
    with pytest.raises(DataError, match=r"'jxl'.*not available.*pip install imagecodecs==2026\.3\.6"):
        encode_to_budget(smooth_image(0, 8, 8), "jxl", 1000)
    assert "jxl" not in available_codecs()
