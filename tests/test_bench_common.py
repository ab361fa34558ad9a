"""benchmarks/common.py: the results writer every benchmark script uses."""

import csv
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import common


def test_rows_with_different_columns_are_written_and_printed(tmp_path, monkeypatch, capsys):
    # Regression: a column only the second row has (pretrained.py's prefix_monotone) raised KeyError at print.
    monkeypatch.setattr(common, "RESULTS", tmp_path)
    rows = [{"model": "grid", "psnr": 22.5}, {"model": "flex", "psnr": 16.3, "prefix_monotone": False}]
    common.write_results("mixed", rows)
    with open(tmp_path / "mixed.csv") as f:
        read = list(csv.DictReader(f))
    assert [r["model"] for r in read] == ["grid", "flex"]
    assert read[0]["prefix_monotone"] == "" and read[1]["prefix_monotone"] == "False"
    assert json.loads((tmp_path / "mixed.json").read_text())["rows"] == rows
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "model | psnr | prefix_monotone"
    assert printed[2] == "flex | 16.3 | False"


def test_fill_columns_keeps_a_column_only_some_rows_have():
    # Regression: benchmarks/text.py's morphology table took its columns from the last row, so an LM column that
    # only the smaller vocabularies had (--morph-lm 1024 2048) vanished from the CSV and the table.
    rows = [{"seg": "bpe", "vocab": 1024, "lm": 1.89}, {"seg": "bpe", "vocab": 8192}]
    assert common.fill_columns(rows) == [
        {"seg": "bpe", "vocab": 1024, "lm": 1.89},
        {"seg": "bpe", "vocab": 8192, "lm": "-"},
    ]
    assert common.fill_columns([{"a": 1}, {"b": 2}], "") == [{"a": 1, "b": ""}, {"a": "", "b": 2}]
