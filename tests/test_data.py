"""tokzoo.data: decoding, transforms, folders, shards, bundled images, dataset and sampler."""

from __future__ import annotations

import io
import logging
import os
import shutil
import tarfile

import numpy as np
import pytest
import torch
from PIL import Image

from tokzoo.core.errors import DataError
from tokzoo.data import (
    BUNDLED_SPLITS,
    CropDataset,
    ImageFolder,
    ShardImages,
    StreamBatchSampler,
    bundled_images,
    center_crop,
    eval_transform,
    expand_braces,
    image_to_tensor,
    iter_shards,
    load_image,
    random_crop,
    random_scale_crop,
    resize,
    resize_shorter,
    save_image,
    tensor_to_image,
    write_shards,
)

RNG = np.random.default_rng(0)


def _rgb(h: int, w: int) -> np.ndarray:
    return RNG.integers(0, 256, (h, w, 3), dtype=np.uint8)


def _encode(im: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


# ---------------------------------------------------------------- decoding and the messy folder

GOOD = {  # file name -> expected (H, W)
    "rgba.png": (20, 30),
    "gray16.png": (16, 64),
    "palette.png": (24, 24),
    "rotated.jpg": (40, 20),  # stored 20x40 (HxW) with EXIF orientation 6 -> 40x20
    "photo.webp": (32, 48),
    "photo.avif": (32, 48),
    "sub/nested.gif": (10, 12),
}
BAD = ("truncated.jpg", "empty.png", "text.png")


@pytest.fixture
def messy(tmp_path):
    """A folder mixing good images of many modes/formats with broken files."""
    (tmp_path / "sub").mkdir()
    rgba = np.zeros((20, 30, 4), np.uint8)
    rgba[:, :15] = (255, 0, 0, 255)  # opaque red left half, fully transparent right half
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    ramp = np.tile(np.linspace(0, 65535, 64).round().astype(np.uint16), (16, 1))
    Image.fromarray(ramp).save(tmp_path / "gray16.png")
    assert Image.open(tmp_path / "gray16.png").mode == "I;16"
    pal = Image.fromarray(_rgb(24, 24)).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    pal.info["transparency"] = 0
    pal.save(tmp_path / "palette.png", transparency=0)
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(_rgb(20, 40)).save(tmp_path / "rotated.jpg", exif=exif)
    Image.fromarray(_rgb(32, 48)).save(tmp_path / "photo.webp")
    Image.fromarray(_rgb(32, 48)).save(tmp_path / "photo.avif")
    Image.fromarray(_rgb(10, 12)).save(tmp_path / "sub" / "nested.gif")
    jpeg = _encode(Image.fromarray(_rgb(64, 64)), "JPEG")
    (tmp_path / "truncated.jpg").write_bytes(jpeg[: len(jpeg) // 2])
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "text.png").write_text("this is not an image\n")
    (tmp_path / "notes.txt").write_text("ignored: not an image extension\n")
    return tmp_path


def test_good_files_decode_to_rgb_uint8(messy):
    for name, hw in GOOD.items():
        arr = load_image(messy / name)
        assert arr.shape == (*hw, 3), name
        assert arr.dtype == np.uint8, name


def test_alpha_composited_over_white(messy):
    arr = load_image(messy / "rgba.png")
    assert (arr[:, :15] == (255, 0, 0)).all()
    assert (arr[:, 15:] == 255).all()


def test_16bit_is_scaled_not_clipped(messy):
    arr = load_image(messy / "gray16.png")
    assert arr[..., 0].min() == 0 and arr[..., 0].max() == 255
    assert len(np.unique(arr)) > 50  # a ramp, not a 0/255 step
    assert (arr[..., 0] == arr[..., 2]).all()


@pytest.mark.parametrize("name", BAD)
def test_bad_file_raises_data_error_naming_it(messy, name):
    with pytest.raises(DataError, match=str(messy / name)):
        load_image(messy / name)


def test_bad_reasons_are_specific(messy):
    with pytest.raises(DataError, match="empty"):
        load_image(messy / "empty.png")
    with pytest.raises(DataError, match="truncated"):
        load_image(messy / "truncated.jpg")
    with pytest.raises(DataError, match="not a recognised image"):
        load_image(messy / "text.png")


def test_bytes_input_uses_name_in_errors():
    assert load_image(_encode(Image.fromarray(_rgb(5, 7)), "PNG")).shape == (5, 7, 3)
    with pytest.raises(DataError, match=r"^shard:key\.png: "):
        load_image(b"garbage", name="shard:key.png")


def test_decompression_bomb_is_refused(monkeypatch):
    data = _encode(Image.fromarray(_rgb(64, 64)), "PNG")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(DataError, match="bomb"):
        load_image(data, name="big.png")


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (Image.fromarray(np.array([[0, 1]], np.uint8) * 255).convert("1"), [0, 255]),
        (Image.fromarray(np.array([[0, 200]], np.uint8)), [0, 200]),
        (Image.fromarray(np.array([[0.0, 0.5]], np.float32), "F"), [0, 128]),
        (Image.fromarray(np.array([[0, 65535]], np.int32), "I"), [0, 255]),
        (Image.fromarray(np.array([[[0, 0, 0, 0], [0, 0, 0, 255]]], np.uint8), "CMYK"), [255, 0]),
        (Image.fromarray(np.array([[[9, 0], [9, 255]]], np.uint8), "LA"), [255, 9]),
    ],
    ids=["1", "L", "F", "I", "CMYK", "LA"],
)
def test_modes_convert_to_rgb(image, expected):
    fmt = "TIFF" if image.mode in ("F", "I", "CMYK") else "PNG"
    arr = load_image(_encode(image, fmt))
    assert arr.shape == (1, 2, 3)
    assert arr[0, :, 0].tolist() == expected


def test_tensor_round_trip_and_rounding(tmp_path):
    arr = _rgb(6, 5)
    t = image_to_tensor(arr)
    assert t.shape == (3, 6, 5) and t.dtype == torch.float32
    assert t.min() >= 0.0 and t.max() <= 1.0
    assert (tensor_to_image(t) == arr).all()
    almost = torch.full((3, 1, 1), 0.998 / 255)  # floor would give 0
    assert tensor_to_image(almost)[0, 0, 0] == 1
    assert tensor_to_image(torch.full((3, 1, 1), 7.0))[0, 0, 0] == 255
    save_image(t, tmp_path / "out" / "x.png")
    assert (load_image(tmp_path / "out" / "x.png") == arr).all()
    with pytest.raises(DataError):
        image_to_tensor(arr[..., 0])


def test_folder_lists_sorted_and_load_all_collects_bad(messy, caplog):
    folder = ImageFolder(messy)
    names = [os.path.relpath(p, messy) for p in folder.paths]
    assert names == sorted([*GOOD, *BAD])
    assert folder[names.index("photo.webp")].shape == (32, 48, 3)
    seen = []
    with caplog.at_level(logging.WARNING, logger="tokzoo.data"):
        result = folder.load_all(on_error=lambda path, reason: seen.append(path))
    assert sorted(os.path.relpath(p, messy) for p, _ in result.images) == sorted(GOOD)
    assert sorted(os.path.relpath(p, messy) for p, _ in result.bad) == sorted(BAD)
    assert all(reason for _, reason in result.bad)
    assert seen == [p for p, _ in result.bad]
    for path, _ in result.bad:
        assert path in caplog.text
    with pytest.raises(DataError):
        folder.load_all(skip_bad=False)
    assert len(ImageFolder(messy, recursive=False)) == len(GOOD) + len(BAD) - 1


def test_folder_errors(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        ImageFolder(tmp_path / "nope")
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(DataError, match=r"no images found under .*\.png"):
        ImageFolder(tmp_path)


# ---------------------------------------------------------------- transforms


def test_resize_shapes_and_range():
    x = torch.rand(3, 40, 60)
    assert resize(x, 20).shape == (3, 20, 20)
    assert resize(x, (10, 30)).shape == (3, 10, 30)
    y = resize(torch.rand(2, 3, 40, 60), (80, 90))  # upscaling bicubic overshoots: must be clamped
    assert y.shape == (2, 3, 80, 90) and y.min() >= 0.0 and y.max() <= 1.0
    assert resize_shorter(x, 20).shape == (3, 20, 30)
    assert resize_shorter(torch.rand(3, 61, 40), 20).shape == (3, 30, 20)


def test_resize_is_antialiased():
    stripes = torch.zeros(3, 64, 64)
    stripes[:, :, ::2] = 1.0
    small = resize(stripes, 7)  # without antialiasing this aliases to values near 0 and 1
    assert torch.allclose(small, torch.full_like(small, 0.5), atol=0.03)


def test_center_crop_known_values():
    x = torch.arange(5 * 6, dtype=torch.float32).reshape(1, 5, 6)
    assert center_crop(x, (3, 2)).tolist() == [[[8.0, 9.0], [14.0, 15.0], [20.0, 21.0]]]


def test_eval_transform_non_square():
    wide = torch.rand(3, 100, 300)
    out = eval_transform(wide, 50)
    assert out.shape == (3, 50, 50)
    expected = resize(wide, (50, 150))[:, :, 50:100]
    assert torch.equal(out, expected)
    assert eval_transform(torch.rand(3, 300, 100), 64).shape == (3, 64, 64)
    assert eval_transform(torch.rand(3, 30, 20), 64).shape == (3, 64, 64)  # small images are upscaled


def test_random_crop_is_deterministic():
    x = torch.rand(3, 50, 70)

    def crop(seed):
        return random_crop(x, 16, torch.Generator().manual_seed(seed))

    assert torch.equal(crop(1), crop(1))
    assert not all(torch.equal(crop(1), crop(s)) for s in range(2, 6))
    assert crop(1).shape == (3, 16, 16)


def test_random_scale_crop_shapes_and_determinism():
    x = torch.rand(3, 120, 90)
    for lo, hi in [(0.25, 1.0), (1.0, 1.0), (0.01, 0.02)]:
        out = random_scale_crop(x, 32, (lo, hi), torch.Generator().manual_seed(3))
        assert out.shape == (3, 32, 32) and out.min() >= 0.0 and out.max() <= 1.0
    a = random_scale_crop(x, 32, (0.25, 1.0), torch.Generator().manual_seed(5))
    b = random_scale_crop(x, 32, (0.25, 1.0), torch.Generator().manual_seed(5))
    assert torch.equal(a, b)
    tiny = random_scale_crop(torch.rand(3, 10, 20), 32, (0.5, 1.0), torch.Generator().manual_seed(0))
    assert tiny.shape == (3, 32, 32)


def test_crops_too_large_raise_with_sizes():
    x = torch.rand(3, 10, 20)
    with pytest.raises(DataError, match=r"10x20.*12x12"):
        center_crop(x, 12)
    with pytest.raises(DataError, match=r"10x20.*4x21"):
        random_crop(x, (4, 21), torch.Generator().manual_seed(0))


# ---------------------------------------------------------------- shards


def _samples(n: int) -> list[tuple[str, dict[str, bytes]]]:
    return [
        (f"part/s{i:04d}", {"png": _encode(Image.fromarray(_rgb(8, 9 + i)), "PNG"), "cls": str(i).encode()})
        for i in range(n)
    ]


def _truncate(path: str, size: int) -> None:
    with open(path, "r+b") as f:
        f.truncate(size)


def test_shards_round_trip(tmp_path):
    samples = _samples(7)
    paths = write_shards(samples, str(tmp_path / "out" / "shard-%06d.tar"), maxcount=3)
    assert [os.path.basename(p) for p in paths] == [f"shard-00000{i}.tar" for i in range(3)]
    assert list(iter_shards(str(tmp_path / "out" / "shard-{000000..000002}.tar"))) == samples
    assert list(iter_shards(paths)) == samples
    with tarfile.open(paths[0]) as tar:
        assert tar.getnames()[:2] == ["part/s0000.png", "part/s0000.cls"]


def test_expand_braces():
    assert expand_braces("a-{08..11}.tar") == ["a-08.tar", "a-09.tar", "a-10.tar", "a-11.tar"]
    assert expand_braces("{x,y}/{1..2}") == ["x/1", "x/2", "y/1", "y/2"]
    assert expand_braces("plain.tar") == ["plain.tar"]
    with pytest.raises(DataError):
        expand_braces("a-{1..2.tar")


def test_bad_shard_and_bad_sample_are_skipped(tmp_path, caplog):
    samples = _samples(6)
    samples[1] = ("part/s0001", {"png": b"not a png", "cls": b"1"})
    samples[4] = ("part/s0004", {"cls": b"4"})  # no image member
    paths = write_shards(samples, str(tmp_path / "shard-%02d.tar"), maxcount=2)
    shutil.copy(paths[2], tmp_path / "whole.tar")
    _truncate(paths[1], 1800)  # inside the first member's data
    seen = []
    images = ShardImages(str(tmp_path / "shard-{00..02}.tar"), on_error=lambda w, r: seen.append(w))
    with caplog.at_level(logging.WARNING, logger="tokzoo.data"):
        got = list(images)
    assert [k for k, _ in got] == ["part/s0000", "part/s0005"]
    assert got[0][1].shape == (8, 9, 3)
    where = [w for w, _ in images.bad]
    assert where == seen
    assert where[0].endswith("shard-00.tar:part/s0001.png") and paths[1] in where
    assert any(w.endswith("part/s0004") for w in where)
    assert "truncated" in dict(images.bad)[paths[1]]
    assert paths[1] in caplog.text
    assert [k for k, _ in iter_shards(str(tmp_path / "whole.tar"))] == ["part/s0004", "part/s0005"]


def test_truncated_at_member_boundary_is_reported(tmp_path):
    paths = write_shards(_samples(3), str(tmp_path / "s-%d.tar"), maxcount=3)
    with tarfile.open(paths[0]) as tar:
        cut = tar.getmembers()[4].offset  # the header of sample 2's first member
    _truncate(paths[0], cut)
    bad = []
    got = list(iter_shards(paths[0], on_error=lambda w, r: bad.append(w)))
    assert [k for k, _ in got] == ["part/s0000"]  # s0001 may be incomplete: dropped
    assert bad == [paths[0]]


def test_missing_shard_raises(tmp_path):
    write_shards(_samples(2), str(tmp_path / "s-%d.tar"), maxcount=1)
    with pytest.raises(DataError, match=r"s-2\.tar"):
        list(iter_shards(str(tmp_path / "s-{0..2}.tar")))
    with pytest.raises(DataError, match=r"s-5\.tar"):
        ShardImages(str(tmp_path / "s-5.tar"))


# ---------------------------------------------------------------- bundled images


def test_bundled_splits():
    assert not set(BUNDLED_SPLITS["train"]) & set(BUNDLED_SPLITS["test"])
    for split in ("train", "test"):
        images = bundled_images(split)
        assert [n for n, _ in images] == list(BUNDLED_SPLITS[split])
        for name, arr in images:
            assert arr.dtype == np.uint8 and arr.ndim == 3 and arr.shape[2] == 3, name
            assert min(arr.shape[:2]) >= 172, name
    with pytest.raises(DataError, match="train, test"):
        bundled_images("val")


# ---------------------------------------------------------------- sampler and dataset


def _keys(sampler: StreamBatchSampler, steps: int) -> list[list[tuple[int, int]]]:
    it = iter(sampler)
    return [next(it) for _ in range(steps)]


def test_sampler_resume_reproduces_stream():
    full = _keys(StreamBatchSampler(10, 4, seed=7), 12)
    assert _keys(StreamBatchSampler(10, 4, seed=7, start_step=5), 7) == full[5:]
    assert _keys(StreamBatchSampler(10, 4, seed=8), 12) != full


def test_sampler_ranks_partition_the_global_batch():
    single = _keys(StreamBatchSampler(13, 6, seed=1), 9)
    ranks = [_keys(StreamBatchSampler(13, 3, seed=1, rank=r, world_size=2), 9) for r in range(2)]
    for step in range(9):
        r0, r1 = ranks[0][step], ranks[1][step]
        assert not set(r0) & set(r1)
        assert r0 + r1 == single[step]


def test_sampler_epochs_visit_every_index_once():
    n = 11
    stream = [k for batch in _keys(StreamBatchSampler(n, 4, seed=3), 11) for k in batch]  # 44 = 4 epochs
    epochs = [[i for i, _ in stream[e * n : (e + 1) * n]] for e in range(4)]
    assert all(sorted(ep) == list(range(n)) for ep in epochs)
    assert epochs[0] != epochs[1]
    assert len({s for _, s in stream}) == len(stream)


def test_crop_dataset_is_deterministic_per_key():
    ds = CropDataset([_rgb(64, 80), _rgb(50, 50)], 32, seed=0)
    a, b = ds[(0, 123)], ds[(0, 123)]
    assert a.shape == (3, 32, 32) and a.dtype == torch.float32
    assert torch.equal(a, b)
    assert not torch.equal(a, ds[(0, 124)])
    assert torch.equal(ds[1], ds[1])
    loader = torch.utils.data.DataLoader(ds, batch_sampler=StreamBatchSampler(2, 3, seed=0))
    assert next(iter(loader)).shape == (3, 3, 32, 32)


def test_crop_dataset_falls_back_past_bad_images(messy, caplog):
    folder = ImageFolder(messy)
    bad = folder.paths.index(str(messy / "empty.png"))
    ds = CropDataset(folder, 16)
    with caplog.at_level(logging.WARNING, logger="tokzoo.data"):
        x = ds[(bad, 5)]
        ds[(bad, 5)]
    assert x.shape == (3, 16, 16)
    assert caplog.text.count("empty.png") == 1  # reported once
    fallback = CropDataset([folder[bad + 1]], 16)[(0, 5)]  # the next file decodes (photo.avif)
    assert torch.equal(x, fallback)


def test_crop_dataset_all_bad_raises(tmp_path):
    (tmp_path / "a.png").write_bytes(b"")
    (tmp_path / "b.png").write_text("no")
    with pytest.raises(DataError, match="none of the 2 images"):
        CropDataset(ImageFolder(tmp_path), 8)[(0, 0)]


def test_crop_dataset_upscales_small_images(caplog):
    ds = CropDataset([_rgb(10, 12)], 32)
    with caplog.at_level(logging.WARNING, logger="tokzoo.data"):
        assert ds[(0, 1)].shape == (3, 32, 32)
        ds[(0, 2)]
    assert caplog.text.count("upscaling") == 1


# ---------------------------------------------------------------- Debian image set (network, slow)


@pytest.mark.slow
def test_debian_imageset(tmp_path):
    if shutil.which("apt-get") is None or shutil.which("dpkg") is None:
        pytest.skip("needs apt-get and dpkg")
    from tokzoo.data.debian import build_debian_imageset

    manifest = build_debian_imageset(tmp_path, packages=["gnome-backgrounds", "no-such-package-tokzoo"])
    assert "no-such-package-tokzoo" in manifest["failed"]
    assert manifest["images"] and (tmp_path / "manifest.json").is_file()
    assert (tmp_path / "gnome-backgrounds" / "copyright").is_file()
    for entry in manifest["images"]:
        assert max(entry["width"], entry["height"]) <= 1024
        assert min(entry["width"], entry["height"]) >= 128
        assert load_image(tmp_path / entry["file"]).shape == (entry["height"], entry["width"], 3)
    assert len({e["sha256"] for e in manifest["images"]}) == len(manifest["images"])


def test_flip_permute_is_deterministic_and_covers_all_orders():
    from tokzoo.data import random_flip_permute

    ramp = torch.linspace(0, 1, 8).expand(8, 8)  # increases left to right
    x = torch.stack([ramp * 0.1, ramp * 0.2 + 0.1, ramp * 0.3 + 0.4])  # channels told apart by offset
    gen = lambda s: torch.Generator().manual_seed(s)  # noqa: E731
    assert torch.equal(
        random_flip_permute(x, gen(5), rgb_permute=True), random_flip_permute(x, gen(5), rgb_permute=True)
    )
    assert torch.equal(random_flip_permute(x, gen(5), hflip=False), x)
    orders, flips = set(), set()
    for seed in range(60):
        y = random_flip_permute(x, gen(seed), rgb_permute=True)
        flipped = bool(y[0, 0, 0] > y[0, 0, -1])
        flips.add(flipped)
        src = x.flip(-1) if flipped else x
        order = tuple(int(torch.nonzero((src == y[c]).all(-1).all(-1))[0]) for c in range(3))
        assert sorted(order) == [0, 1, 2]
        orders.add(order)
    assert flips == {True, False} and len(orders) == 6
