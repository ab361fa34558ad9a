"""The real-clip builder: windows spread over a clip, split by source content, missing packages skipped."""

from __future__ import annotations

import itertools
import json
import shutil

import pytest
import torch

from tokzoo.core.errors import DataError
from tokzoo.data.shards import write_shards
from tokzoo.video import data
from tokzoo.video.data import SOURCES, TEST_GROUPS, ClipSource, build, window_starts, write_clip_shards
from tokzoo.video.dataset import build_clip_dataset
from video_clips import write_sprite_clip


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


def test_sources_are_consistent():
    paths = [(s.package, s.path) for s in SOURCES]
    assert len(paths) == len(set(paths))  # no source listed twice
    stems = [s.path.rsplit("/", 1)[1].rsplit(".", 1)[0] for s in SOURCES]
    assert len(stems) == len(set(stems))  # window files are named <stem>_<k>.mkv: stems must not collide
    assert all(s.package and s.group and not s.path.startswith("/") for s in SOURCES)
    groups = {s.group for s in SOURCES}
    assert groups >= TEST_GROUPS  # every held-out group has a source
    # the split is decided per group, so a group is never in both splits
    splits = {g: {s.group in TEST_GROUPS for s in SOURCES if s.group == g} for g in groups}
    assert all(len(v) == 1 for v in splits.values())
    # the held-out set stays the original one: tree.avi (opencv-doc) and cockatoo.mp4 (python3-imageio)
    held_out = sorted(s.path.rsplit("/", 1)[1] for s in SOURCES if s.group in TEST_GROUPS)
    assert {"tree", "cockatoo"} == TEST_GROUPS and held_out == ["cockatoo.mp4", "tree.avi"]


def test_licences_are_copied_per_package(tmp_path, monkeypatch):
    monkeypatch.setenv("TOKZOO_CACHE", str(tmp_path / "cache"))
    for package, has_copyright in [("pkg-a", True), ("pkg-b", False)]:
        root = tmp_path / "cache" / "debian" / package / "root"
        root.mkdir(parents=True)
        if has_copyright:
            (root / "usr/share/doc" / package).mkdir(parents=True)
            (root / "usr/share/doc" / package / "copyright").write_text("License: MIT\n")
    written = data.write_licenses(tmp_path / "out", ["pkg-a", "pkg-b", "pkg-a"])
    assert written == {"pkg-a": "licenses/pkg-a.copyright", "pkg-b": None}
    assert (tmp_path / "out" / "licenses" / "pkg-a.copyright").read_text() == "License: MIT\n"


@pytest.mark.skipif(shutil.which("apt-get") is None, reason="needs apt-get")
def test_a_missing_package_is_reported_and_skipped(tmp_path, monkeypatch):
    monkeypatch.setenv("TOKZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(data, "SOURCES", (ClipSource("no-such-package-xyz", "clip.avi", "x"),))
    manifest = build(tmp_path / "out")
    assert manifest["windows"] == [] and manifest["skipped"][0]["package"] == "no-such-package-xyz"
    assert json.loads((tmp_path / "out" / "manifest.json").read_text()) == manifest


def test_clip_shards_train_the_same_windows_as_the_files(tmp_path, caplog):
    rows = []
    for i, split in enumerate(["train", "train", "test"]):
        name = f"{split}/c{i}.mkv"
        write_sprite_clip(tmp_path / name, frames=9, size=24, seed=i)
        rows.append({"file": name, "split": split, "source": f"c{i}"})
    shards = write_clip_shards(tmp_path, rows, shard_size=1)
    assert shards == {
        "train": ["shards/train-000000.tar", "shards/train-000001.tar"],
        "test": ["shards/test-000000.tar"],
    }
    from_files = build_clip_dataset(str(tmp_path / "train"), 16, frames=5)
    from_shards = build_clip_dataset(f"shards:{tmp_path}/shards/train-{{000000..000001}}.tar", 16, frames=5)
    assert len(from_shards) == len(from_files) == 2  # one 5-frame window per 9-frame clip
    assert all(torch.equal(from_shards[(i, 3)], from_files[(i, 3)]) for i in range(2))
    write_shards(
        [("odd", {"txt": b"no clip"}), ("bad", {"mkv": b"\x1a\x45\xdf\xa3 broken"})],
        str(tmp_path / "x-%d.tar"),
        9,
    )
    with pytest.raises(DataError, match="no clip of 5 frames could be read from 1 files"):
        build_clip_dataset(f"shards:{tmp_path}/x-0.tar", 16, frames=5)
    assert "x-0.tar/odd: no video member (has txt)" in caplog.text
    assert "x-0.tar/bad.mkv: cannot read video" in caplog.text
