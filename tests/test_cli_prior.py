"""``tokzoo tokenize | train-prior | bench rates | sample`` end to end on images and on SVG (grammar-masked)."""

import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import torch
from PIL import Image

import tokzoo
from tokzoo.cli import main


@pytest.fixture
def photos(tmp_path):
    rng = np.random.default_rng(0)
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(6):
        Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(folder / f"p{i}.png")
    (folder / "broken.png").write_bytes(b"nope")
    return folder


def _json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_images_tokenize_train_rates_sample(tmp_path, photos, capsys):
    torch.manual_seed(0)
    ckpt = str(tokzoo.create("vq-f8-s", ch=8, codebook_size=64).save_pretrained(tmp_path / "model"))
    shards, run = tmp_path / "shards", tmp_path / "run"
    assert (
        main(["tokenize", "--model", ckpt, "--data", str(photos), "--out", str(shards), "--size", "32"]) == 0
    )
    done = _json_lines(capsys.readouterr().out)[0]
    assert done["samples"] == 6 and done["skipped_inputs"] == 1 and done["manifest"]
    args = ["--tokens", str(shards), "--out", str(run), "--dim", "32", "--depth", "1", "--heads", "2"]
    assert main(["train-prior", *args, "--steps", "5", "--batch-size", "4"]) == 0
    assert (run / "prior" / "model.safetensors").is_file()
    assert main(["bench", "rates", "--tokens", str(shards), "--prior", str(run / "prior")]) == 0
    rows = _json_lines(capsys.readouterr().out)[1:]
    assert [r["model"] for r in rows] == ["unigram-adaptive", "prior"] and rows[0][
        "fixed_bits_per_token"
    ] == 6.0
    assert (
        main(
            [
                "sample",
                "--prior",
                str(run / "prior"),
                "--tokenizer",
                ckpt,
                "-n",
                "3",
                "--out",
                str(tmp_path / "s"),
            ]
        )
        == 0
    )
    written = sorted((tmp_path / "s").glob("*.png"))
    assert len(written) == 3 and Image.open(written[0]).size == (32, 32)

    # compress / decompress .tok files under the prior: exact round trip, the model checked by its weights
    tok = tmp_path / "p0.tok"
    assert main(["encode", str(photos / "p0.png"), "--model", ckpt, "--size", "32", "-o", str(tok)]) == 0
    capsys.readouterr()
    assert main(["compress", str(tok), "--model", str(run / "prior"), "--out", str(tmp_path / "c")]) == 0
    row = _json_lines(capsys.readouterr().out)[0]
    coded = tmp_path / "c" / "p0.tokc"
    assert row["file_bytes"] == coded.stat().st_size and row["fixed_bits"] == 16 * 6
    assert main(["decompress", str(coded), "--model", str(run / "prior"), "--out", str(tmp_path / "d")]) == 0
    assert tokzoo.Tokens.load(tmp_path / "d" / "p0.tok").equal(tokzoo.Tokens.load(tok))
    capsys.readouterr()
    other = tmp_path / "run2"
    assert (
        main(["train-prior", *args[:2], "--out", str(other), *args[4:], "--steps", "2", "--seed", "1"]) == 0
    )
    assert (
        main(["decompress", str(coded), "--model", str(other / "prior"), "--out", str(tmp_path / "e")]) == 2
    )
    assert "p0.tokc: coded with model 'prior-" in capsys.readouterr().err
    assert main(["compress", str(tok), "--model", str(tmp_path)]) == 2
    assert "not a coding model" in capsys.readouterr().err


def test_svg_samples_are_valid_programs(tmp_path, capsys):
    model = tokzoo.create("svg-hivg-128")
    folder = tmp_path / "icons"
    folder.mkdir()
    for i, text in enumerate(model.example_input() * 3):
        (folder / f"icon{i}.svg").write_text(text)
    shards, run = tmp_path / "shards", tmp_path / "run"
    assert main(["tokenize", "--model", "svg-hivg-128", "--data", str(folder), "--out", str(shards)]) == 0
    args = ["--tokens", str(shards), "--out", str(run), "--dim", "32", "--depth", "1", "--heads", "2"]
    assert main(["train-prior", *args, "--steps", "30", "--lr", "3e-3"]) == 0
    assert main(["sample", "--prior", str(run / "prior"), "--tokenizer", "svg-hivg-128", "-n", "4",
                 "--out", str(tmp_path / "s")]) == 0  # fmt: skip
    written = sorted((tmp_path / "s").glob("*.svg"))
    assert written
    for path in written:
        assert ET.parse(path).getroot().tag.endswith("svg")


def test_labelled_parquet_shards_conditional_prior_and_guided_sampling(tmp_path, capsys):
    rng = np.random.default_rng(1)
    for cls in ("a", "b"):
        (tmp_path / "in" / cls).mkdir(parents=True)
        for i in range(2):
            Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(
                tmp_path / "in" / cls / f"{i}.png"
            )
    shards, run = tmp_path / "sh", tmp_path / "run"
    args = ["--data", str(tmp_path / "in"), "--out", str(shards), "--size", "32", "--labels", "folder"]
    assert main(["tokenize", "--model", "fsq-f16-s", *args, "--format", "parquet"]) == 0
    manifest = json.loads((shards / "manifest.json").read_text())
    assert manifest["classes"] == ["a", "b"] and manifest["shards"][0]["name"].endswith(".parquet")
    small = ["--dim", "32", "--depth", "1", "--heads", "2", "--steps", "3"]
    assert main(["train-prior", "--tokens", str(shards), "--out", str(run), "--classes", *small]) == 0
    assert json.loads((run / "prior" / "config.json").read_text())["config"]["num_classes"] == 2
    capsys.readouterr()
    sample = ["sample", "--prior", str(run / "prior"), "--tokenizer", "fsq-f16-s", "-n", "2", "--out"]
    assert main([*sample, str(tmp_path / "s"), "--class-id", "1", "--guidance", "2"]) == 0
    assert len(list((tmp_path / "s").glob("sample_*.png"))) == 2
