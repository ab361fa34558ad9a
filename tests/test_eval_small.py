"""``tokzoo eval`` skips images smaller than the evaluation size instead of upscaling them into the mean."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

import tokzoo
from tokzoo.cli import main


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "model"
    return str(tokzoo.create("vq-f8-s", ch=8, codebook_size=64).save_pretrained(path))


def folder(path, sizes):
    path.mkdir()
    rng = np.random.default_rng(0)
    for i, (w, h) in enumerate(sizes):
        Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(path / f"p{i}_{w}x{h}.png")
    return path


def test_tiny_images_are_listed_not_scored(ckpt, tmp_path, capsys):
    data = folder(tmp_path / "data", [(48, 40), (1, 1), (4, 4), (40, 40)])
    out = tmp_path / "metrics.json"
    assert main(["eval", "--model", ckpt, "--data", str(data), "--size", "32", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "skipped           2 images smaller than the evaluation size 32 px" in text
    assert "p1_1x1.png (1x1 px)" in text and "p2_4x4.png (4x4 px)" in text
    m = json.loads(out.read_text())
    assert m["summary"]["num_images"] == 2
    assert sorted(name.rsplit("/", 1)[-1] for name, _ in m["skipped"]) == ["p1_1x1.png", "p2_4x4.png"]
    assert all("not upscaled" in reason for _, reason in m["skipped"])


def test_a_folder_of_only_tiny_images_is_a_clear_error(ckpt, tmp_path, capsys):
    data = folder(tmp_path / "data", [(1, 1), (4, 4)])
    assert (
        main(
            ["eval", "--model", ckpt, "--data", str(data), "--size", "32", "--out", str(tmp_path / "m.json")]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "all 2 images are smaller than the evaluation size 32 px" in err and "--size 4" in err
