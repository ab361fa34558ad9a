"""The per-file SVG measurement shared by `tokzoo eval` and benchmarks/svg.py, and the benchmark's rows."""

import sys
from pathlib import Path

import pytest

import tokzoo
from tokzoo.svg import SvgInputError
from tokzoo.svg.measure import RECORD_KEYS, measure_svg_file

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

SQUARE = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">'
    '<path d="M8 8 H56 V56 H8 Z" fill="#204080" stroke="#000" stroke-width="2"/></svg>'
)


@pytest.fixture(scope="module")
def tok():
    return tokzoo.create("svg-hivg-256", num_segments=0)


def test_measures_tokens_and_fidelity_of_a_good_file(tok, tmp_path):
    path = tmp_path / "square.svg"
    path.write_text(SQUARE)
    m = measure_svg_file(tok, path)
    assert m.error is None and m.stage is None
    row = m.record()
    assert list(row) == list(RECORD_KEYS)
    assert row["file"] == "square.svg" and row["bytes"] == len(SQUARE)
    assert row["level1_tokens"] == row["level2_tokens"] > 10  # no segments learned: level 2 is level 1
    assert row["iou"] > 0.99 and row["hairline"] is False and row["silhouette_iou"] == row["iou"]
    assert m.original.shape == m.rendered.shape == (256, 256, 4)


@pytest.mark.parametrize(
    ("text", "stage"),
    [
        ("<svg><path d='M0 0 L", "parse"),  # malformed XML
        ('<svg xmlns="http://www.w3.org/2000/svg"><path d="M1 1"/></svg>', "parse"),  # nothing drawable
    ],
)
def test_a_bad_file_stops_at_its_stage_with_the_error(tok, tmp_path, text, stage):
    path = tmp_path / "bad.svg"
    path.write_text(text)
    m = measure_svg_file(tok, path)
    assert m.stage == stage and isinstance(m.error, SvgInputError) and not m.tokenized
    row = m.record()
    assert row["bytes"] == len(text) and row["level2_tokens"] is None and row["iou"] is None


def test_an_unreadable_file_is_a_parse_failure(tok, tmp_path):
    m = measure_svg_file(tok, tmp_path / "missing.svg")
    assert m.stage == "parse" and isinstance(m.error, OSError) and m.record()["bytes"] is None


def test_benchmark_rows_and_target(tok, tmp_path):
    pytest.importorskip("tokenizers")  # the byte-BPE baseline is a bench extra
    import svg as bench

    good, bad = tmp_path / "good.svg", tmp_path / "bad.svg"
    good.write_text(SQUARE)
    bad.write_text("<svg><path d='M0 0 L")
    bpe = bench.byte_bpe([SQUARE] * 4, 300)
    bench._STATE.update(model=tok, grid=256, raw=bpe, norm=bpe, same=bpe)
    rows = [bench.measure_row(("p", str(good))), bench.measure_row(("p", str(bad)))]
    assert rows[0]["parsed"] == rows[0]["rendered"] == 1 and rows[0]["iou_ceiling"] > 0.99
    assert rows[1]["parsed"] == 0 and rows[1]["error"].startswith("parse: ")
    summary = bench.summary_row("p", rows, 256)
    assert summary["test_files"] == 2 and summary["tokenized"] == 0.5
    assert summary["iou"] == rows[0]["iou"] and summary["iou_strict"] == rows[0]["iou"] / 2
    assert summary["bpe_over_l2"] == rows[0]["byte_bpe"] / rows[0]["level2_tokens"]
    expected = int(summary["bpe_over_l2"] >= 4 and summary["iou"] >= 0.98)
    assert summary["target_met"] == expected
    rows[0]["iou"] = 0.5  # a file far off the silhouette fails the target whatever the ratio
    assert bench.summary_row("p", rows, 256)["target_met"] == 0
