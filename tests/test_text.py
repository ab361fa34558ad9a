"""Text legibility: rendered pages, OCR of known boxes, per-bin scores (TokBench-style)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image, ImageFilter

import tokzoo
from tokzoo.bench.ocr import TESSERACT_HINT, ocr_read, tesseract_available
from tokzoo.bench.text import legibility_table, normalize_text, ocr_accuracy, text_legibility, word_scores
from tokzoo.bench.text_render import SIZE_BINS, render_page, render_pages
from tokzoo.core.errors import ConfigError, DataError


def large_clean_pages(n: int = 2) -> list:
    """A few pages of 28–36 px DejaVu Sans words on plain backgrounds (every engine should read them)."""
    return [render_page(256, (28, 36), "plain", np.random.default_rng(i), ["DejaVuSans"]) for i in range(n)]


def blurred(pages: list, radius: float = 6.0) -> list[np.ndarray]:
    return [np.asarray(Image.fromarray(p.image).filter(ImageFilter.GaussianBlur(radius))) for p in pages]


def test_rapidocr_reads_clean_words_and_fails_on_blurred_ones():
    pages = large_clean_pages()
    result = legibility_table(pages, blurred(pages), bins=[(28, 36)])
    row = next(r for r in result.rows if r["bin"] == "28-36px")
    assert row["words"] >= 6
    assert row["ocr_acc_orig"] >= 0.9 and row["ned_orig"] >= 0.95
    assert row["ocr_acc_rec"] <= 0.2 and row["ned_rec"] < 0.6
    assert row["relative_acc"] == pytest.approx(row["ocr_acc_rec"] / row["ocr_acc_orig"])
    assert ocr_accuracy(pages, [p.image for p in pages]) == [1.0] * len(pages)


def test_render_pages_is_deterministic_and_boxes_are_disjoint_and_inside():
    kwargs = dict(seed=3, words_per_bin=4, bins=((8, 11), (32, 48)))
    a, b = render_pages(128, **kwargs), render_pages(128, **kwargs)
    assert [p.words for p in a] == [p.words for p in b]
    assert all(np.array_equal(p.image, q.image) for p, q in zip(a, b, strict=True))
    other = render_pages(128, **{**kwargs, "seed": 4})
    assert [p.words for p in other] != [p.words for p in a]
    assert {p.background for p in a} == {"plain", "photo"}
    for page in a:
        lo, hi = (8, 11) if page.size_bin == "8-11px" else (32, 48)
        for k, w in enumerate(page.words):
            x0, y0, x1, y1 = w.box
            assert 0 <= x0 < x1 <= 128 and 0 <= y0 < y1 <= 128 and lo <= w.size <= hi
            for v in page.words[k + 1 :]:
                u0, v0, u1, v1 = v.box
                assert x1 <= u0 or u1 <= x0 or y1 <= v0 or v1 <= y0, (w, v)


def test_word_scores_known_values_and_normalisation():
    exact, ned = word_scores(["sitting", "Cat Chings.", ""], ["kitten", "catchings", "abc"])
    assert exact == [False, True, False]
    assert ned == pytest.approx([1 - 3 / 7, 1.0, 0.0])
    assert normalize_text(" Po1y-hedra ") == "po1yhedra"
    with pytest.raises(DataError, match="2 read strings for 1 words"):
        word_scores(["a", "b"], ["a"])


def test_bad_inputs_name_the_problem(monkeypatch):
    pages = large_clean_pages(1)
    boxes = [[w.box for w in pages[0].words]]
    with pytest.raises(ConfigError, match="unknown OCR engine 'easyocr'"):
        ocr_read([pages[0].image], boxes, engine="easyocr")
    with pytest.raises(DataError, match="1 images but boxes for 2"):
        ocr_read([pages[0].image], boxes * 2)
    with pytest.raises(DataError, match="too small"):
        render_pages(64, words_per_bin=1)
    monkeypatch.setenv("PATH", "")
    with pytest.raises(DataError, match="apt-get install tesseract-ocr"):
        ocr_read([pages[0].image], boxes, engine="tesseract")


def test_text_legibility_runs_a_real_tokenizer():
    torch.manual_seed(0)
    model = tokzoo.create("vq-f8-s")
    result = text_legibility(model, size=128, words_per_bin=3, bins=((32, 40),))
    assert [r["bin"] for r in result.rows] == ["32-40px", "all"]
    row = result.rows[0]
    assert row["ocr_acc_orig"] >= 0.9
    assert row["ocr_acc_rec"] <= 0.5  # an untrained tokenizer returns no legible text
    ex = result.examples[0]
    assert ex["original"].shape == ex["reconstruction"].shape == (128, 128, 3)
    assert {"plain", "photo"} <= set(result.summary)


@pytest.mark.slow
def test_rapidocr_ceiling_on_default_pages():
    pages = render_pages(256, seed=0, words_per_bin=30)
    result = legibility_table(pages, [p.image for p in pages])
    for row in result.rows:
        assert row["ocr_acc_rec"] == row["ocr_acc_orig"]
        if row["bin"] not in {"6-7px", "8-11px", "all"}:
            assert row["ocr_acc_orig"] >= 0.95, row
    assert [r["bin"] for r in result.rows[:-1]] == [f"{lo}-{hi}px" for lo, hi in SIZE_BINS]


@pytest.mark.slow
@pytest.mark.skipif(not tesseract_available(), reason=f"Tesseract not installed: {TESSERACT_HINT}")
def test_tesseract_reads_clean_words_and_fails_on_blurred_ones():
    pages = large_clean_pages()
    result = legibility_table(pages, blurred(pages), engine="tesseract", bins=[(28, 36)])
    row = result.rows[0]
    assert row["ocr_acc_orig"] >= 0.9
    assert row["ocr_acc_rec"] <= 0.2


def test_too_small_pages_say_how_many_words_fit():
    from tokzoo.bench.text_render import render_pages
    from tokzoo.core.errors import DataError

    with pytest.raises(DataError, match=r"40-48px: \d+ pages of 96 px fit only \d+ words .*asked for 3"):
        render_pages(96, words_per_bin=3, bins=[(40, 48)], backgrounds=("plain",))
