"""The photo corpus builder on fake Debian packages (no network): screening, dedupe, splits, outputs."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from tokzoo.core.errors import DataError
from tokzoo.data import ImageFolder, ShardImages, apt, load_image
from tokzoo.data.dedupe import NearDuplicates, hamming, phash, pixel_hash
from tokzoo.data.photo_sources import Source
from tokzoo.data.photos import build_photos, main
from tokzoo.data.screening import colourfulness, crop_to_alpha, dominant_share
from tokzoo.image.dataset import build_crop_dataset


def _scene(seed: int, h: int = 300, w: int = 400) -> np.ndarray:
    """A smooth, colourful, photo-like image: upsampled coloured noise plus fine grain."""
    rng = np.random.default_rng(seed)
    coarse = Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)).resize(
        (w, h), Image.Resampling.BICUBIC
    )
    grain = rng.normal(0, 6, (h, w, 3))
    return np.clip(np.asarray(coarse, dtype=np.float64) + grain, 0, 255).astype(np.uint8)


def _save(path: Path, arr: np.ndarray, **kw) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path, **kw)


def _png_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def packages(tmp_path, monkeypatch):
    """Fake unpacked packages: ``wall`` (held out) and ``tex`` (training); ``gone`` cannot be fetched."""
    trees = tmp_path / "trees"
    wall = trees / "wall" / "root"
    _save(wall / "usr/share/backgrounds/a.png", _scene(1))
    _save(wall / "usr/share/backgrounds/b.jpg", _scene(2), quality=95)
    _save(wall / "usr/share/backgrounds/c.png", _scene(3))
    _save(wall / "usr/share/backgrounds/z-copy.png", _scene(1))  # exact duplicate of a.png
    _save(
        wall / "usr/share/backgrounds/b-small.jpg", np.asarray(Image.fromarray(_scene(2)).resize((360, 270)))
    )
    (wall / "usr/share/doc/wall").mkdir(parents=True)
    (wall / "usr/share/doc/wall/copyright").write_text("wall: CC-BY-SA\n")

    tex = trees / "tex" / "root" / "usr/share/games/tex"
    for i in range(10, 22):
        _save(tex / f"t{i}.png", _scene(i, 256, 320))
    _save(
        tex / "heldout-twin.png", np.asarray(Image.fromarray(_scene(3)).resize((344, 258)))
    )  # near-dup of wall
    _save(tex / "icon.png", _scene(30, 64, 64))
    _save(tex / "gray.png", np.repeat(_scene(31)[..., :1], 3, axis=2))
    _save(tex / "flat.png", np.full((300, 300, 3), (200, 30, 40), np.uint8))
    sprite = np.zeros((400, 400, 4), np.uint8)
    sprite[:40, :40] = sprite[-40:, -40:] = (
        255  # two opaque corners: the box is the whole, mostly transparent
    )
    _save(tex / "sparse.png", sprite)
    normals = np.random.default_rng(0).normal(0, 0.3, (300, 300, 3))
    normals[..., 2] = 1.0
    normals /= np.linalg.norm(normals, axis=2, keepdims=True)
    _save(tex / "rock.png", np.clip(normals * 127 + 128, 0, 255).astype(np.uint8))  # a normal map
    stamp = np.zeros((500, 600, 4), np.uint8)
    stamp[50:350, 100:420, :3] = _scene(32, 300, 320)
    stamp[50:350, 100:420, 3] = 255
    _save(tex / "stamp.png", stamp)  # cropped to its opaque 320x300 box
    with zipfile.ZipFile(tex / "pack.pk3", "w") as z:
        z.writestr("textures/z1.png", _png_bytes(_scene(40)))
        z.writestr("textures/z2.jpg", _png_bytes(_scene(41)))  # wrong extension: decoded by content
        z.writestr("textures/readme.txt", "not an image")

    calls: list[str] = []

    def fake_package(package: str, cache=None) -> Path:
        calls.append(package)
        root = trees / package / "root"
        if not root.is_dir():
            raise DataError(f"{package}: apt-get download failed: E: Unable to locate package {package}")
        return root

    monkeypatch.setattr(apt, "debian_package", fake_package)
    sources = (
        Source("tex", "texture", rules=(("*/t10.png", None),)),
        Source("gone", "photo"),
        Source("wall", "wallpaper", heldout=True),
    )
    return sources, tmp_path / "cache", calls


def test_builder_screens_dedupes_and_splits(packages, tmp_path):
    sources, cache, _ = packages
    out = tmp_path / "out"
    manifest = build_photos(out, sources, cache=cache, val_percent=20.0, shard_size=4)
    images = {(r["package"], r["source"].rsplit("/", 1)[-1]): r for r in manifest["images"]}

    assert {n for p, n in images if p == "wall"} == {
        "a.png",
        "b.jpg",
        "c.png",
    }  # copy and smaller version dropped
    kinds = {(d["source"].rsplit("/", 1)[-1], d["kind"]) for d in manifest["duplicates"]}
    assert {("z-copy.png", "exact"), ("b-small.jpg", "near"), ("heldout-twin.png", "near")} <= kinds
    assert manifest["packages"]["wall"]["skipped"] == {"duplicate": 1, "near_duplicate": 1}
    skipped = manifest["packages"]["tex"]["skipped"]
    assert skipped == {
        "small": 1,
        "gray": 1,
        "flat": 1,
        "transparent": 1,
        "normal_map": 1,
        "excluded": 1,
        "near_duplicate": 1,
    }
    tex_names = {n for p, n in images if p == "tex"}
    assert {"stamp.png", "z1.png", "z2.jpg"} <= tex_names  # z1, z2: members of pack.pk3
    assert not tex_names & {
        "icon.png",
        "gray.png",
        "flat.png",
        "sparse.png",
        "rock.png",
        "heldout-twin.png",
        "t10.png",
    }
    assert images[("tex", "stamp.png")]["content_size"] == [320, 300]
    assert images[("tex", "stamp.png")]["source_size"] == [600, 500]

    assert {r["split"] for r in manifest["images"] if r["package"] == "wall"} == {"test"}
    assert {r["split"] for r in manifest["images"] if r["package"] == "tex"} <= {"train", "val"}
    zipped = {r["split"] for r in manifest["images"] if ":" in r["source"]}
    assert len(zipped) == 1  # members of one archive share a split
    assert manifest["failed"] == {"gone": "apt-get download failed: E: Unable to locate package gone"}
    assert manifest["packages"]["wall"]["copyright"] == "copyright/wall"
    assert (out / "copyright/wall").read_text() == "wall: CC-BY-SA\n"
    assert manifest["packages"]["tex"]["copyright"] is None

    for rec in manifest["images"]:
        assert min(rec["stored_size"]) == 256
        assert rec["colourfulness"] >= 8
        path = out / rec["file"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == rec["sha256"]
        assert load_image(path).shape == (rec["stored_size"][1], rec["stored_size"][0], 3)


def test_shards_match_manifest_and_folders(packages, tmp_path):
    sources, cache, _ = packages
    out = tmp_path / "out"
    manifest = build_photos(out, sources, cache=cache, val_percent=20.0, shard_size=4)
    for shard, info in manifest["shards"].items():
        assert hashlib.sha256((out / shard).read_bytes()).hexdigest() == info["sha256"]
    for split in ("train", "val", "test"):
        recs = {r["key"]: r for r in manifest["images"] if r["split"] == split}
        shards = [str(out / s) for s, info in manifest["shards"].items() if info["split"] == split]
        seen = ShardImages(shards)
        got = {key: img for key, img in seen}
        assert not seen.bad and set(got) == set(recs)
        for key, img in got.items():
            assert np.array_equal(img, load_image(out / recs[key]["file"]))
        if recs:
            assert len(ImageFolder(out / split)) == len(recs)
    train_shards = sorted(str(out / s) for s, info in manifest["shards"].items() if info["split"] == "train")
    for spec in (str(out / "train"), f"shards:{train_shards[0]}"):  # what a training config's `data` takes
        assert build_crop_dataset(spec, 64, scale=(0.5, 1.0), seed=0)[0].shape == (3, 64, 64)
    stats = json.loads((out / "stats.json").read_text())
    assert stats["photos"]["count"] == len(manifest["images"])
    assert stats["photos"]["packages"]["wall"] == {"test": 3}
    assert (
        stats["bundled"]["splits"]["train"]["count"] == 15
        and stats["bundled"]["splits"]["test"]["count"] == 3
    )


def test_rerun_uses_the_screening_cache(packages, tmp_path, monkeypatch):
    sources, cache, calls = packages
    first = build_photos(tmp_path / "out", sources, cache=cache)

    def no_screening(*args, **kwargs):
        raise AssertionError("screened again")

    monkeypatch.setattr("tokzoo.data.photos.analyse", no_screening)
    second = build_photos(tmp_path / "out", sources, cache=cache)
    assert first["images"] == second["images"]
    assert calls.count("tex") == 2  # the (cached) unpack is asked for each time; apt.py caches it


def test_no_image_at_all_is_an_error(packages, tmp_path):
    _, cache, _ = packages
    with pytest.raises(DataError, match="no images collected"):
        build_photos(tmp_path / "out", (Source("gone", "photo"),), cache=cache)


def test_cli_with_two_processes_prints_tables(packages, tmp_path, monkeypatch, capsys):
    sources, cache, _ = packages
    monkeypatch.setattr("tokzoo.data.photos.DEFAULT_SOURCES", sources)
    assert main(["--out", str(tmp_path / "out"), "--cache", str(cache), "--jobs", "2"]) == 0
    printed = capsys.readouterr().out
    assert (
        "| wall | - | held out | 3 |" in printed and "| gone | - | failed: apt-get download failed" in printed
    )
    assert "| photos test | 3 |" in printed and "| bundled train | 15 |" in printed
    serial = build_photos(tmp_path / "serial", sources, cache=tmp_path / "cache2")
    assert json.loads((tmp_path / "out/manifest.json").read_text())["images"] == serial["images"]


def test_cli_rejects_unknown_package(tmp_path, capsys):
    assert main(["--out", str(tmp_path), "--packages", "no-such-corpus-package"]) == 2
    assert "no-such-corpus-package" in capsys.readouterr().err


def test_screening_measures():
    gray = np.repeat(_scene(5)[..., :1], 3, axis=2)
    assert colourfulness(gray) == 0.0
    assert colourfulness(_scene(5)) > 20
    assert dominant_share(np.zeros((10, 10, 3), np.uint8)) == 1.0
    rgba = np.zeros((50, 60, 4), np.uint8)
    rgba[10:20, 5:45] = (255, 0, 0, 255)
    rgb, coverage = crop_to_alpha(rgba)
    assert rgb.shape == (10, 40, 3) and coverage == 1.0 and (rgb == (255, 0, 0)).all()
    assert crop_to_alpha(np.zeros((5, 5, 4), np.uint8))[1] == 0.0


def test_phash_survives_rescaling_and_tells_scenes_apart():
    a = _scene(7)
    smaller = np.asarray(Image.fromarray(a).resize((300, 225), Image.Resampling.LANCZOS))
    assert hamming(phash(a), phash(smaller)) <= 4
    assert min(hamming(phash(a), phash(_scene(s))) for s in range(8, 20)) > 12
    assert pixel_hash(a) == pixel_hash(a.copy()) != pixel_hash(smaller)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1), max_size=40), st.integers(0, 2**64 - 1), st.integers(0, 64))
def test_near_duplicates_finds_the_first_within_distance(stored, query, distance):
    index = NearDuplicates(distance)
    for h in stored:
        index.add(h)
    expected = next(
        ((i, hamming(h, query)) for i, h in enumerate(stored) if hamming(h, query) <= distance), None
    )
    assert index.find(query) == expected
