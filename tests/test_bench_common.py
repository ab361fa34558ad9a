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
