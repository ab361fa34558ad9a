"""The command line: every subcommand's help, an encode/decode/eval round trip, one-line errors."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

import tokzoo
from tokzoo.cli import main
from tokzoo.core import registry
from tokzoo.core.modality import list_modalities
from tokzoo.core.tokens import Tokens

SUBCOMMANDS = ["list", "train", "encode", "decode", "eval", "demo", "tokenize", "train-prior", "sample"]


@pytest.mark.parametrize("cmd", SUBCOMMANDS)
def test_help(cmd, capsys):
    with pytest.raises(SystemExit) as e:
        main([cmd, "--help"])
    assert e.value.code == 0
    assert "usage: tokzoo " + cmd in capsys.readouterr().out


@pytest.fixture
def ckpt(tmp_path):
    return str(tokzoo.create("vq-f8-s", ch=8, codebook_size=64).save_pretrained(tmp_path / "model"))


@pytest.fixture
def photo(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "photo.png"
    Image.fromarray(rng.integers(0, 255, (40, 48, 3), dtype=np.uint8)).save(path)
    return path


def test_list(capsys):
    assert main(["list", "*f8*"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [ln.split()[0] for ln in out] == ["fsq-f8-s", "fsq-f8-s-lo", "vq-f8-b", "vq-f8-s"]


def test_encode_decode_round_trip(ckpt, photo, tmp_path, capsys):
    tok = tmp_path / "photo.tok"
    assert main(["encode", str(photo), "--model", ckpt, "--size", "32", "-o", str(tok)]) == 0
    assert "16 tokens, 96 bits" in capsys.readouterr().out
    tokens = Tokens.load(tok)
    assert tokens.shape == (4, 4) and tokens.meta["tokenizer"] == "vq-f8-s"
    original = photo.read_bytes()
    assert main(["decode", str(tok), "--model", ckpt]) == 0
    assert photo.read_bytes() == original  # the default output never overwrites the source image
    out = Image.open(tmp_path / "photo_rec.png")
    assert out.size == (32, 32) and out.mode == "RGB"
    with torch.no_grad():
        expected = tokzoo.load(ckpt).decode(tokens)[0]
    assert (
        np.abs(np.asarray(out, dtype=float) / 255 - expected.permute(1, 2, 0).numpy()).max()
        <= 0.5 / 255 + 1e-6
    )


def test_eval_folder_reports_and_skips_bad_files(ckpt, photo, tmp_path, capsys):
    (tmp_path / "broken.png").write_bytes(b"not an image")
    out = tmp_path / "m.json"
    grid = tmp_path / "g.png"
    code = main(
        [
            "eval",
            "--model",
            ckpt,
            "--data",
            str(tmp_path),
            "--size",
            "32",
            "--out",
            str(out),
            "--grid",
            str(grid),
        ]
    )
    assert code == 0
    metrics = json.loads(out.read_text())
    assert metrics["summary"]["num_images"] == 1 and metrics["summary"]["bits"]["mean"] == 96
    assert metrics["skipped"][0][0].endswith("broken.png")
    assert "PSNR" in capsys.readouterr().out and grid.is_file()


def _error(capsys, argv) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("tokzoo: error: ") and "\n" not in err and "Traceback" not in err
    return err


def test_missing_file(ckpt, tmp_path, capsys):
    assert "file not found" in _error(capsys, ["encode", str(tmp_path / "nope.png"), "--model", ckpt])


def test_wrong_checkpoint(photo, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert "no config.json" in _error(capsys, ["encode", str(photo), "--model", str(tmp_path / "empty")])
    assert "checkpoint folder not found" in _error(
        capsys, ["encode", str(photo), "--model", str(tmp_path / "x")]
    )


def test_image_too_small(ckpt, tmp_path, capsys):
    small = tmp_path / "small.png"
    Image.new("RGB", (4, 4)).save(small)
    assert "too small" in _error(capsys, ["encode", str(small), "--model", ckpt])


def test_unreadable_image(ckpt, tmp_path, capsys):
    bad = tmp_path / "bad.png"
    bad.write_text("hello")
    assert str(bad) in _error(capsys, ["encode", str(bad), "--model", ckpt])


def test_corrupt_tok_file(ckpt, photo, tmp_path, capsys):
    tok = tmp_path / "p.tok"
    main(["encode", str(photo), "--model", ckpt, "--size", "32", "-o", str(tok)])
    data = bytearray(tok.read_bytes())
    data[-6] ^= 0xFF
    tok.write_bytes(bytes(data))
    assert "corrupted" in _error(capsys, ["decode", str(tok), "--model", ckpt])


def test_tokens_from_another_model(ckpt, photo, tmp_path, capsys):
    other = str(tokzoo.create("vq-f4-s", ch=8, codebook_size=64).save_pretrained(tmp_path / "other"))
    tok = tmp_path / "p.tok"
    main(["encode", str(photo), "--model", other, "--size", "32", "-o", str(tok)])
    assert "made by vq-f4-s@" in _error(capsys, ["decode", str(tok), "--model", ckpt])


def test_wrong_modality(photo, tmp_path, capsys):
    """A checkpoint of a modality no plugin declares is refused with one line naming the ones there are."""
    base = tokzoo.create("vq-f8-s", ch=8, codebook_size=64)

    class AudioLike(type(base)):
        modality = "audio"

    registry.register_tokenizer(
        lambda **kw: AudioLike(type(base.cfg)(**kw)), name="test-audiolike", modality="audio"
    )
    try:
        model = tokzoo.create("test-audiolike", ch=8, codebook_size=64)
        path = str(model.save_pretrained(tmp_path / "audio"))
        registered = ", ".join(list_modalities())
        assert f"no modality 'audio' is registered (registered: {registered})" in _error(
            capsys, ["encode", str(photo), "--model", path]
        )
    finally:
        registry._REGISTRY.pop("test-audiolike")


def test_bad_training_override(capsys):
    assert "unknown config key" in _error(capsys, ["train", "nope=1"])


@pytest.mark.parametrize(
    "argv",
    [
        ["encode", "x.png", "--model", "m", "--size", "0"],
        ["eval", "--model", "m", "--data", "d", "--batch-size", "-1"],
    ],
)
def test_non_positive_sizes_are_usage_errors(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2 and "positive integer" in capsys.readouterr().err


def test_output_path_that_is_a_folder(ckpt, photo, tmp_path, capsys):
    (tmp_path / "outdir").mkdir()
    err = _error(
        capsys, ["encode", str(photo), "--model", ckpt, "--size", "32", "-o", str(tmp_path / "outdir")]
    )
    assert "outdir" in err


def test_eval_below_one_thumbnail_reports_no_floor(tmp_path, photo, capsys):
    ckpt = str(tokzoo.create("vq-f8-s", ch=8, codebook_size=16).save_pretrained(tmp_path / "m16"))
    out = tmp_path / "m.json"
    assert main(["eval", "--model", ckpt, "--data", str(tmp_path), "--size", "8", "--out", str(out)]) == 0
    assert "not even a 1x1 thumbnail" in capsys.readouterr().out
    assert json.loads(out.read_text())["summary"]["thumb_psnr"] is None


def test_decode_batches_and_empty_tok(ckpt, tmp_path, capsys):
    model = tokzoo.load(ckpt)
    two = model.encode(torch.rand(2, 3, 16, 16))
    two.save(tmp_path / "two.tok")
    assert main(["decode", str(tmp_path / "two.tok"), "--model", ckpt]) == 0
    assert (tmp_path / "two_rec_000.png").is_file() and (tmp_path / "two_rec_001.png").is_file()
    empty = Tokens(
        torch.zeros(0, 4, dtype=torch.long), torch.zeros(0, dtype=torch.long), 64, "grid2d", (2, 2), two.meta
    )
    empty.save(tmp_path / "empty.tok")
    assert "nothing to decode" in _error(capsys, ["decode", str(tmp_path / "empty.tok"), "--model", ckpt])


def test_encode_num_tokens_prefix_and_fixed_length_refusal(ckpt, photo, tmp_path, capsys):
    flex = str(tokzoo.create("flex-t-16").save_pretrained(tmp_path / "flex"))
    tok = tmp_path / "p.tok"
    assert (
        main(["encode", str(photo), "--model", flex, "--size", "64", "--num-tokens", "4", "-o", str(tok)])
        == 0
    )
    assert "4 tokens" in capsys.readouterr().out
    assert Tokens.load(tok).num_tokens == 4
    assert main(["decode", str(tok), "--model", flex]) == 0
    assert Image.open(tmp_path / "p_rec.png").size == (64, 64)
    assert main(["encode", str(photo), "--model", ckpt, "--size", "32", "--num-tokens", "3"]) == 2
    err = capsys.readouterr().err
    assert "photo.png" in err and "fixed-length" in err and len(err.strip().splitlines()) == 1


def test_demo_end_to_end_resumes_and_writes_everything(tmp_path, capsys, monkeypatch):
    from tokzoo.core import pretrained as pt

    torch.manual_seed(0)
    tokzoo.create("fsq-f8-s", ch=8, z_channels=16).save_pretrained(tmp_path / "ckpt")
    pt.export_pretrained(tmp_path / "ckpt", tmp_path / "weights", "fsq-f8-s")
    monkeypatch.setattr(pt, "_weight_roots", lambda: [tmp_path / "weights"])
    pt.catalog.cache_clear()
    monkeypatch.setattr("tokzoo.bench.demo.DATA", "bundled:test")  # 3 photos instead of 30: fast
    out = tmp_path / "demo"
    try:
        assert main(["demo", "--out", str(out), "--steps", "4", "--no-rd"]) == 0
        for name in (
            "summary.txt",
            "report.html",
            "grid.png",
            "fsq-f8-s/metrics.json",
            "finetune/model/config.json",
        ):
            assert (out / name).is_file(), name
        summary = json.loads((out / "fsq-f8-s" / "metrics.json").read_text())["summary"]
        assert summary["num_images"] == 3 and summary["tokens"]["mean"] == 256
        lines = (out / "summary.txt").read_text().splitlines()
        assert "fsq-f8-s" in lines[1] and "2560 bits/image" in lines[1] and "the floor" in lines[1]
        assert "http://" not in (out / "report.html").read_text() and "PSNR" in capsys.readouterr().out
        assert main(["demo", "--out", str(out), "--steps", "6", "--no-rd"]) == 0  # continues from step 4
        steps = [json.loads(ln)["step"] for ln in (out / "finetune" / "logs.jsonl").read_text().splitlines()]
        assert steps[-1] == 6 and len(steps) == len(set(steps))
    finally:
        pt.catalog.cache_clear()
