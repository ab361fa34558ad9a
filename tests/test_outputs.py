"""Output safety: ``-o`` equal to an input is refused; missing output folders need ``--parents``."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import tokzoo
from tokzoo.cli import main


@pytest.fixture
def setup(tmp_path):
    ckpt = str(tokzoo.create("vq-f8-s", ch=8, codebook_size=64).save_pretrained(tmp_path / "model"))
    photo = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(photo)
    return tmp_path, ckpt, photo


def test_output_equal_to_the_input_is_refused(setup, capsys):
    tmp, ckpt, photo = setup
    before = photo.read_bytes()
    assert main(["encode", str(photo), "--model", ckpt, "-o", str(photo)]) == 2
    assert "the output is also an input" in capsys.readouterr().err
    assert photo.read_bytes() == before
    assert main(["encode", str(photo), "--model", ckpt, "-o", str(tmp / "p.tok")]) == 0
    assert main(["decode", str(tmp / "p.tok"), "--model", ckpt, "-o", str(tmp / "p.tok")]) == 2


def test_svg_output_equal_to_the_input_is_refused(tmp_path, capsys):
    svg = tmp_path / "a.svg"
    svg.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><path d="M0 0 L5 5 L5 0Z"/></svg>'
    )
    assert main(["encode", str(svg), "--model", "svg-hivg-128", "-o", str(svg)]) == 2
    assert "the output is also an input" in capsys.readouterr().err


def test_missing_output_folder_is_an_error_unless_asked_for(setup, capsys):
    tmp, ckpt, photo = setup
    out = tmp / "no" / "such" / "p.tok"
    assert main(["encode", str(photo), "--model", ckpt, "-o", str(out)]) == 2
    assert "folder does not exist (create it, or pass --parents)" in capsys.readouterr().err
    assert not (tmp / "no").exists()
    assert main(["encode", str(photo), "--model", ckpt, "-o", str(out), "--parents"]) == 0
    assert out.is_file()
