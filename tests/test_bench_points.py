"""benchmarks/points.py bookkeeping (the benchmark itself runs under `make bench`)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import points

COUNTS = [1, 3, 7, 15, 31, 63, 127, 255]  # points-vat-tri-ms-128's whole prefixes of scales


def test_ms_selection_defaults_to_the_last_prefixes():
    assert points.ms_selection(COUNTS, 3, None, "m") == [63, 127, 255]


def test_ms_selection_takes_chosen_whole_prefixes():
    assert points.ms_selection(COUNTS, 3, [1, 7, 15], "m") == [1, 7, 15]


def test_ms_selection_refuses_a_count_that_is_not_a_whole_prefix():
    with pytest.raises(SystemExit, match=r"\[8\] are not whole prefixes of vat-ms"):
        points.ms_selection(COUNTS, 3, [7, 8], "vat-ms")


def test_ms_selection_refuses_zero_prefixes():
    # counts[-0:] would have been every prefix
    with pytest.raises(SystemExit, match="at least 1"):
        points.ms_selection(COUNTS, 0, None, "m")


def test_single_scale_model_is_scored_once_at_all_tokens():
    assert points.ms_selection([], 3, [1, 7], "m") == [None]
