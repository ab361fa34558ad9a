"""The real-clip builder: windows spread over a clip, split by source content, missing packages skipped."""

from __future__ import annotations

import itertools
import json
import shutil

import pytest

from tokzoo.video import data
from tokzoo.video.data import SOURCES, TEST_GROUPS, ClipSource, build, window_starts


def test_window_starts_spread_and_do_not_overlap():
    assert window_starts(100, 9, 3) == [0, 45, 90]
    assert window_starts(20, 9, 5) == [0, 9]
    assert window_starts(8, 9, 5) == []
    starts = window_starts(795, 9, 24)
    assert len(starts) == 24 and all(b - a >= 9 for a, b in itertools.pairwise(starts))


def test_split_is_by_content_group():
    groups = {s.group for s in SOURCES}
    assert groups > TEST_GROUPS  # both splits are non-empty
    names = {s.path.rsplit("/", 1)[1]: s.group for s in SOURCES}
    assert names["Megamind_bugy.avi"] == names["Megamind.avi"]  # a damaged copy stays with its original


@pytest.mark.skipif(shutil.which("apt-get") is None, reason="needs apt-get")
def test_a_missing_package_is_reported_and_skipped(tmp_path, monkeypatch):
    monkeypatch.setenv("TOKZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(data, "SOURCES", (ClipSource("no-such-package-xyz", "clip.avi", "x"),))
    manifest = build(tmp_path / "out")
    assert manifest["windows"] == [] and manifest["skipped"][0]["package"] == "no-such-package-xyz"
    assert json.loads((tmp_path / "out" / "manifest.json").read_text()) == manifest
